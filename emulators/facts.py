"""Deterministic synthetic facts, shared by the emulators.

Facts are generated lazily, one (partition, day) at a time, from a random generator seeded by
a stable hash of the key: the same key gives the same numbers in every process, on every machine,
so a test can compute the ground truth in-process while the tap reads it over HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import typing as t
from decimal import ROUND_HALF_EVEN, Decimal

# Fixed exchange rates (units of the currency per 1 USD), so conversions are exact and stable.
USD_RATES: dict[str, Decimal] = {
    "USD": Decimal(1),
    "AUD": Decimal("1.5"),
    "GBP": Decimal("0.8"),
    "EUR": Decimal("0.9"),
    "CAD": Decimal("1.25"),
    "JPY": Decimal(150),
    "NZD": Decimal("1.6"),
}


def seeded(*key: object) -> random.Random:
    """A random generator whose sequence depends only on ``key``."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def stable_id(*key: object, digits: int = 19) -> str:
    """A numeric id string of ``digits`` digits derived from ``key`` (Rokt-style long ids)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
    low = 10 ** (digits - 1)
    return str(low + int.from_bytes(digest, "big") % (9 * low))


def convert_cents(cents: int, from_currency: str, to_currency: str) -> int:
    """Convert an amount in minor units between currencies at the fixed rates, rounded half-even."""
    if from_currency == to_currency:
        return cents
    try:
        rate = USD_RATES[to_currency] / USD_RATES[from_currency]
    except KeyError as exc:
        raise ValueError(f"unsupported currency {exc.args[0]}") from exc
    return int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def days(start: dt.date, end: dt.date) -> t.Iterator[dt.date]:
    """Every day from ``start`` (inclusive) to ``end`` (exclusive)."""
    day = start
    while day < end:
        yield day
        day += dt.timedelta(days=1)


def period_start(moment: dt.datetime, interval: str) -> dt.datetime:
    """The start of the ``day``, ``week`` (Monday), ``month`` or ``year`` containing ``moment``."""
    moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return moment
    if interval == "week":
        return moment - dt.timedelta(days=moment.weekday())
    if interval == "month":
        return moment.replace(day=1)
    if interval == "year":
        return moment.replace(month=1, day=1)
    raise ValueError(f"unknown interval {interval!r}")
