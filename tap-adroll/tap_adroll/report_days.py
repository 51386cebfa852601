"""Which report days a run extracts: the rule of the contract, shared by the three taps.

A date setting names report days by its calendar date, in the report's own timezone: ``2025-01-01`` and
``2025-01-01T00:00:00Z`` (or ``...T23:00:00-05:00``) all name report day 1 January, for an account in New York
as for one in Sydney. The time of day and the offset a setting carries never move the day. Without
``end_date``, the run ends before today in the report's timezone, so only whole days are extracted.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

# YYYY-MM-DD, optionally followed by a time and an offset (what date and date-time settings look like).
_SETTING_DATE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*\Z")


def setting_day(value: t.Any) -> dt.date:
    """The calendar date a ``start_date``/``end_date`` setting (or a bookmark) names, as written.

    Raises ``ValueError`` for anything that is not a date or an ISO 8601 date-time.
    """
    match = _SETTING_DATE.match(str(value))
    try:
        return dt.date.fromisoformat(match.group(1) if match else "")
    except ValueError:
        msg = f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time"
        raise ValueError(msg) from None


def end_day(end_date: t.Any, zone: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    """The first report day not to extract: ``end_date``'s date, or today in the report's timezone."""
    if end_date:
        return setting_day(end_date)
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()


def first_day(start: dt.date, starting_value: t.Any, lookback_days: int) -> dt.date:
    """The first report day to extract: ``lookback_days`` before the bookmark, never before ``start``.

    ``starting_value`` is what the SDK starts a partition from: its bookmark, or ``start_date`` on a first
    run (then the lookback reaches before ``start`` and ``start`` wins).
    """
    if not starting_value:
        return start
    return max(start, setting_day(starting_value) - dt.timedelta(days=lookback_days))


def day_span(first: dt.date, end: dt.date) -> str:
    """``2025-03-01..2025-03-31`` for the days of ``[first, end)`` (the last day shown inclusive)."""
    if end <= first:
        return "none"
    return f"{first.isoformat()}..{(end - dt.timedelta(days=1)).isoformat()}"
