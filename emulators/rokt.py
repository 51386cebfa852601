"""Emulator of the Rokt Query API (see shared/api-docs/rokt-query-api.txt).

Facts are generated per account and UTC hour at the finest grain (every dimension), then
bucketed into report days in the requested timezone and summed over the requested dimensions,
so any report the API can answer has an exact, reproducible ground truth: :meth:`RoktEmulator.report`
serves the endpoints and the tests alike.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import itertools
import json
import time
import typing as t
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulators.facts import USD_RATES, convert_cents, period_start, seeded, stable_id
from emulators.server import Emulator, HTTPError, Request, Response, json_response, route

INTERVALS = ("day", "week", "month", "year")


@dataclasses.dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    country: str
    currency: str
    timezone: str
    campaigns: int  # how many campaigns it runs (0: an account with no advertiser data)
    transactions: bool  # whether it is also a partner with transaction data
    extra_metric: str | None = None  # a metric only this account's help lists

    def resource(self) -> dict:
        offset = ZoneInfo(self.timezone).utcoffset(dt.datetime(2025, 1, 15)).total_seconds() // 60
        return {
            "accountId": self.account_id,
            "accountName": self.name,
            "countryCode": self.country,
            "accountOwner": f"owner@{self.name.lower().replace(' ', '-')}.example",
            "accountCurrencyCode": self.currency,
            "accountTimezone": self.timezone,
            "accountTimezoneOffset": int(offset),
        }


ACCOUNTS = (
    Account("3286272607917027328", "Outdoor Gear Co", "US", "USD", "America/New_York", 4, True, "viewthru_acquisitions"),
    Account("3286272607917027329", "Harbour Travel", "AU", "AUD", "Australia/Sydney", 3, True),
    Account("3286272607917027330", "Quiet Books", "GB", "GBP", "Europe/London", 0, False),
)
# An account that exists but the demo credentials may not see (403 on direct access).
FORBIDDEN_ACCOUNT = "3286272607917027399"

# What generated accounts cycle through (beyond the three above), so a large universe mixes zones on both
# sides of UTC, currencies, advertisers and partners, and accounts with no data at all.
SCALE_ZONES = ("America/Los_Angeles", "Europe/Berlin", "Asia/Tokyo", "Pacific/Auckland", "America/Toronto",
               "UTC", "Asia/Kolkata")
SCALE_COUNTRIES = {"USD": "US", "EUR": "DE", "JPY": "JP", "NZD": "NZ", "CAD": "CA", "GBP": "GB", "AUD": "AU"}
SCALE_CURRENCIES = ("USD", "EUR", "JPY", "NZD", "CAD", "GBP", "AUD")
SCALED_ID_BASE = 3286272607918000000


def scaled_accounts(count: int) -> tuple[Account, ...]:
    """``count`` accounts: the three of :data:`ACCOUNTS` first, then generated ones, deterministically.

    Generated account ``n`` (from 0) runs ``1 + n % 5`` campaigns, except every fifth one (no campaign
    data); two in three are partners with transaction data as well.
    """
    if count < 0:
        raise ValueError("accounts must be >= 0")
    generated = []
    for n in range(max(0, count - len(ACCOUNTS))):
        currency = SCALE_CURRENCIES[n % len(SCALE_CURRENCIES)]
        generated.append(
            Account(
                account_id=str(SCALED_ID_BASE + n),
                name=f"Scaled Account {n + 1}",
                country=SCALE_COUNTRIES[currency],
                currency=currency,
                timezone=SCALE_ZONES[n % len(SCALE_ZONES)],
                campaigns=0 if n % 5 == 4 else 1 + n % 5,
                transactions=n % 3 != 2,
            )
        )
    return (*ACCOUNTS[:count], *generated)

CAMPAIGN_DIMENSIONS = {
    "campaign_id": "The ID of the campaign",
    "creative_id": "The ID of the creative",
    "age_range": "The age range of the user",
    "device": "The device of the user",
}
CAMPAIGN_METRICS = {
    "impressions": "The number of ad impressions",
    "referrals": "The number of positive engagements with the ad",
    "clickthru_acquisitions": "The number of click-thru acquisitions for the ad",
    "viewthru_acquisitions": "The number of view-thru acquisitions for the ad",
    "gross_cost": "The gross cost (spend) for the ad",
    "cpa": "The Cost per Acquisition for the ad",
}
TRANSACTION_DIMENSIONS = {
    "age_range": "The age range of the user",
    "display_type": "The type of display the ad was shown on",
    "page_type": "The type of page the user was on",
    "device": "The device of the user",
}
TRANSACTION_METRICS = {
    "transactions": "Total number of transactions",
    "rokt_transactions_per_transaction": "Total number of transactions processed by Rokt per transaction",
    "impressions": "Total number of advertisement impressions",
    "page_transactions": "Total number of transactions processed by page",
    "layout_impressions": "Total number of advertisement impressions processed by layout",
}
AGE_RANGES = ("18-24", "25-34", "35-54")
DEVICES = ("desktop", "mobile")
DISPLAY_TYPES = ("embedded", "overlay")
PAGE_TYPES = ("confirmation", "checkout")

# Metrics that are ratios of summed metrics: (numerator, denominator, scale); None when the denominator is 0.
RATIOS = {
    "cpa": ("gross_cost", "clickthru_acquisitions"),
    "rokt_transactions_per_transaction": ("page_transactions", "transactions"),
}
MONEY = {"gross_cost", "cpa"}


def _parse_date(value: t.Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise HTTPError(400, {"message": f"{field} is required and must be a string"})
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise HTTPError(400, {"message": f"{field} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, got {value!r}"})


class RoktEmulator(Emulator):
    """The Rokt Query API on loopback.

    Options: ``app_id``/``app_secret`` (the credentials it accepts), ``token_ttl`` (seconds a token lives),
    ``seed`` (changes every number), ``accounts`` (the accounts the credentials see: a sequence of
    :class:`Account`, or a number of them from :func:`scaled_accounts`; default the three of :data:`ACCOUNTS`),
    ``cache_answers`` (serve a repeated report query from memory, for benchmarks), ``latency_ms`` and
    ``latency_jitter_ms`` (added to every request).
    Reports honour ``limit`` by cutting the answer there, silently, as the API does.
    Provider faults (contract breaches): ``wrong_type`` (a metric as a string), ``outside_window`` (a row dated
    before the requested window).
    """

    name = "rokt"

    def __init__(
        self,
        *,
        app_id: str = "demo-app-id",
        app_secret: str = "demo-app-secret",
        token_ttl: float = 3600.0,
        seed: int = 0,
        accounts: int | t.Sequence[Account] | None = None,
        cache_answers: bool = False,
        latency_ms: float = 0,
        latency_jitter_ms: float = 0,
    ) -> None:
        super().__init__(token_ttl=token_ttl, latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms)
        if accounts is None:
            accounts = ACCOUNTS
        elif isinstance(accounts, int):
            accounts = scaled_accounts(accounts)
        self.app_id = app_id
        self.app_secret = app_secret
        self.seed = seed
        self.accounts = {account.account_id: account for account in accounts}
        # Benchmarks serve repeated queries from memory, so they measure the client, not the emulator.
        self._answers: dict[str, list[dict]] | None = {} if cache_answers else None

    # ------------------------------------------------------------------ auth

    @route("POST", r"/auth/oauth2/token")
    def token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.app_id}:{self.app_secret}".encode()).decode()
        if request.auth_credentials("Basic") != expected:
            return json_response({"error": "invalid_client", "error_description": "Bad client credentials"}, 401)
        if request.form().get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        return {
            "access_token": self.tokens.issue("rokt"),
            "token_type": "Bearer",
            "expires_in": int(self.tokens.ttl_seconds),
        }

    def _authorize(self, request: Request) -> None:
        state = self.tokens.state(request.bearer_token())
        if state != "valid":
            raise HTTPError(401, {"message": f"Failed to authenticate. Invalid token ({state})."})

    def _account(self, request: Request, account_id: str) -> Account:
        self._authorize(request)
        if account_id == FORBIDDEN_ACCOUNT:
            raise HTTPError(403, {"message": "User does not have access to the specified account"})
        if account_id not in self.accounts:
            raise HTTPError(404, {"message": f"Account with the specified ID does not exist: {account_id}"})
        return self.accounts[account_id]

    # ------------------------------------------------------------------ accounts

    @route("GET", r"/v1/query/accounts")
    def list_accounts(self, request: Request) -> list[dict]:
        self._authorize(request)
        if not self.accounts:
            raise HTTPError(404, {"message": "User does not have any accounts"})
        return [account.resource() for account in self.accounts.values()]

    @route("GET", r"/v1/query/accounts/(?P<account_id>[^/]+)")
    def get_account(self, request: Request, account_id: str) -> dict:
        return self._account(request, account_id).resource()

    # ------------------------------------------------------------------ help

    def help(self, report: str, account: Account) -> dict:
        """The ReportingMetadataExternal answer of ``campaigns/help`` or ``transactions/help``."""
        dimensions, metrics = self._catalog(report, account)
        return {
            "dimensions": [{"slug": slug, "description": text} for slug, text in dimensions.items()],
            "metrics": [{"slug": slug, "description": text} for slug, text in metrics.items()],
        }

    @staticmethod
    def _catalog(report: str, account: Account) -> tuple[dict[str, str], dict[str, str]]:
        if report == "campaigns":
            metrics = {k: v for k, v in CAMPAIGN_METRICS.items() if k != "viewthru_acquisitions" or account.extra_metric == k}
            return CAMPAIGN_DIMENSIONS, metrics
        return TRANSACTION_DIMENSIONS, TRANSACTION_METRICS

    @route("GET", r"/v1/query/accounts/(?P<account_id>[^/]+)/(?P<report>campaigns|transactions)/help")
    def get_help(self, request: Request, account_id: str, report: str) -> dict:
        return self.help(report, self._account(request, account_id))

    # ------------------------------------------------------------------ reports

    @route("POST", r"/v1/query/accounts/(?P<account_id>[^/]+)/(?P<report>campaigns|transactions)/?")
    def post_report(self, request: Request, account_id: str, report: str) -> dict:
        account = self._account(request, account_id)
        started = time.perf_counter()
        body = request.json()
        if not isinstance(body, dict):
            raise HTTPError(400, {"message": "Request body must be a ReportingRequestExternal object"})
        if self._answers is None:
            rows = self.report(account_id, report, body)
        else:
            key = json.dumps([account_id, report, body], sort_keys=True)
            rows = self._answers.get(key)
            if rows is None:
                rows = self._answers[key] = self.report(account_id, report, body)
        broken = self.faults.take({"wrong_type", "outside_window"}, request.method, request.path)
        if broken is not None and rows:
            rows = [dict(rows[0]), *rows[1:]]  # never alter a cached answer
            if broken.kind == "wrong_type":
                rows[0][body["metrics"][0]] = "n/a"
            elif "datetime" in rows[0]:
                before = dt.date.fromisoformat(body["startDate"][:10]) - dt.timedelta(days=1)
                rows[0]["datetime"] = f"{before.isoformat()}T00:00:00Z"
        return {"data": rows, "accountId": account.account_id, "queryTimeMs": int((time.perf_counter() - started) * 1000)}

    def report(self, account_id: str, report: str, body: dict) -> list[dict]:
        """The rows of a report request (the body as the API takes it); 400s as HTTPError."""
        account = self.accounts[account_id]
        dimension_catalog, metric_catalog = self._catalog(report, account)
        metrics = body.get("metrics")
        if not isinstance(metrics, list) or not metrics:
            raise HTTPError(400, {"message": "metrics is required: a non-empty list of metric slugs"})
        dimensions = body.get("dimensions") or []
        for kind, slugs, catalog in (("metric", metrics, metric_catalog), ("dimension", dimensions, dimension_catalog)):
            unknown = [slug for slug in slugs if slug not in catalog]
            if unknown:
                raise HTTPError(400, {"message": f"Unknown {kind} slug(s): {', '.join(map(str, unknown))}"})
        start = _parse_date(body.get("startDate"), "startDate")
        end = _parse_date(body.get("endDate"), "endDate")
        if end <= start:
            raise HTTPError(400, {"message": "endDate must be after startDate (endDate is exclusive)"})
        interval = body.get("interval")
        if interval is not None and interval not in INTERVALS:
            raise HTTPError(400, {"message": f"interval must be one of {', '.join(INTERVALS)}"})
        timezone = body.get("timezoneVariation", "America/New_York")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise HTTPError(400, {"message": f"Unknown timezoneVariation {timezone!r}"}) from exc
        currency = body.get("currencyCode", "USD")
        if currency not in USD_RATES:
            raise HTTPError(400, {"message": f"Unsupported currencyCode {currency!r}"})
        filters = body.get("dimensionFilters") or {}
        if not isinstance(filters, dict) or any(
            slug not in dimension_catalog or not isinstance(values, list) for slug, values in filters.items()
        ):
            raise HTTPError(400, {"message": "dimensionFilters must map dimension slugs to lists of values"})
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise HTTPError(400, {"message": "limit must be a positive integer"})

        totals = self._aggregate(account, report, start, end, zone, dimensions, interval, filters, currency)
        rows = [self._row(key, sums, dimensions, metrics, interval) for key, sums in totals.items()]
        keys = (["datetime"] if interval else []) + dimensions
        self._order(rows, body.get("orderBys") or [], keys, set(keys) | set(metrics))
        return rows if limit is None else rows[:limit]

    def _aggregate(self, account, report, start, end, zone, dimensions, interval, filters, currency) -> dict:
        wanted = {slug: set(map(str, values)) for slug, values in filters.items()}
        first_utc = start.replace(tzinfo=zone).astimezone(dt.UTC).date() - dt.timedelta(days=1)
        last_utc = end.replace(tzinfo=zone).astimezone(dt.UTC).date()
        totals: dict[tuple, dict[str, int]] = {}
        day = first_utc
        while day <= last_utc:
            for hour, cells in enumerate(self._hourly(account.account_id, report, day)):
                local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).astimezone(zone)
                local = local.replace(tzinfo=None)
                if not start <= local < end:
                    continue
                period = period_start(local, interval) if interval else None
                for dims, facts in cells:
                    if any(dims[slug] not in values for slug, values in wanted.items()):
                        continue
                    key = (period, *(dims[slug] for slug in dimensions))
                    sums = totals.setdefault(key, dict.fromkeys(facts, 0))
                    for metric, value in facts.items():
                        sums[metric] += value
            day += dt.timedelta(days=1)
        if currency != account.currency:
            for sums in totals.values():
                if "gross_cost" in sums:
                    sums["gross_cost"] = convert_cents(sums["gross_cost"], account.currency, currency)
        return totals

    @staticmethod
    def _row(key: tuple, sums: dict[str, int], dimensions: list[str], metrics: list[str], interval: str | None) -> dict:
        row: dict[str, t.Any] = {}
        if interval:
            row["datetime"] = key[0].strftime("%Y-%m-%dT%H:%M:%SZ")
        for metric in metrics:
            if metric in RATIOS:
                numerator, denominator = RATIOS[metric]
                value = sums[numerator] / sums[denominator] if sums[denominator] else None
                if value is not None:
                    value = round(value / 100, 2) if metric in MONEY else round(value, 4)
                row[metric] = value
            elif metric in MONEY:
                row[metric] = sums[metric] / 100
            else:
                row[metric] = float(sums[metric])  # the API answers counts as floats (1501.0)
        row.update(zip(dimensions, key[1:], strict=False))
        return row

    @staticmethod
    def _order(rows: list[dict], order_bys: list, keys: list[str], columns: set[str]) -> None:
        """Sort by the period and dimensions, then by each ``orderBys`` entry (the first one wins)."""
        rows.sort(key=lambda row: tuple(row[key] for key in keys))
        for order in reversed(order_bys):
            if not isinstance(order, dict) or order.get("column") not in columns:
                raise HTTPError(400, {"message": f"orderBys entries need a known column: {order!r}"})
            direction = str(order.get("direction", "asc")).lower()
            if direction not in ("asc", "desc"):
                raise HTTPError(400, {"message": f"orderBys direction must be asc or desc: {order!r}"})
            column = order["column"]
            rows.sort(key=lambda row: (row.get(column) is None, row.get(column) or 0), reverse=direction == "desc")

    # ------------------------------------------------------------------ facts

    @functools.lru_cache(maxsize=2048)  # noqa: B019 - bounded, and the emulator lives as long as its cache
    def _hourly(self, account_id: str, report: str, day: dt.date) -> tuple[tuple[tuple[dict, dict], ...], ...]:
        """The finest-grain facts of one account, report and UTC day: 24 hours of (dimensions, metrics) cells."""
        account = self.accounts[account_id]
        rng = seeded("rokt", self.seed, account_id, report, day.isoformat())
        if report == "campaigns":
            campaigns = [stable_id("campaign", account_id, n) for n in range(account.campaigns)]
            grid = [
                {"campaign_id": campaign, "creative_id": stable_id("creative", campaign, k), "age_range": age, "device": device}
                for campaign in campaigns
                for k in range(2)
                for age, device in itertools.product(AGE_RANGES, DEVICES)
            ]
        elif account.transactions:
            grid = [
                {"age_range": age, "device": device, "display_type": display, "page_type": page}
                for age, device, display, page in itertools.product(AGE_RANGES, DEVICES, DISPLAY_TYPES, PAGE_TYPES)
            ]
        else:
            grid = []
        hours = []
        for _hour in range(24):
            cells = []
            for dims in grid:
                if rng.random() < 0.35:  # most cells are empty in any one hour
                    continue
                cells.append((dims, self._facts(rng, report, account)))
            hours.append(tuple(cells))
        return tuple(hours)

    @staticmethod
    def _facts(rng, report: str, account: Account) -> dict[str, int]:
        impressions = rng.randint(1, 60)
        if report == "campaigns":
            referrals = rng.randint(0, impressions // 4)
            acquisitions = rng.randint(0, referrals // 2) if referrals else 0
            facts = {
                "impressions": impressions,
                "referrals": referrals,
                "clickthru_acquisitions": acquisitions,
                "gross_cost": referrals * rng.randint(40, 260),  # cents, in the account's currency
            }
            if account.extra_metric:
                facts[account.extra_metric] = rng.randint(0, 2)
            return facts
        transactions = rng.randint(1, 40)
        return {
            "transactions": transactions,
            "page_transactions": rng.randint(0, transactions),
            "impressions": impressions,
            "layout_impressions": rng.randint(0, impressions),
        }
