"""Emulator of the MediaMath Reporting API v2 (see shared/api-docs/mediamath-reporting-api-v2*.{txt,yaml}).

- ``POST /oauth/token``: the Auth0 password grant (``username``, ``password``, ``client_id``,
  ``client_secret``, ``audience``; JSON or form body) answering a JWT-looking bearer token that
  expires after ``token_ttl`` seconds (24 h by default).
- ``POST /reporting/v2/{dataset}``: every dataset of the field catalog (``mediamath_fields.json``,
  generated from the OpenAPI tables by ``tap-mediamath/scripts/build_field_catalog.py``). Fields are
  validated against the dataset's table, filters evaluated for real (``=`` with arrays as IN, ``!=``,
  ``<``, ``<=``, ``>``, ``>=``, ``=~``, ``isNull``, ``isNotNull``, nested ``and``/``or``), rollups
  ``all``/``by_hour``/``by_day``/``by_week``/``by_month`` applied, ``time_zone`` honoured where the
  dataset documents it (``UTC``, ``campaign`` or an IANA name). Without ``pagination`` the answer is the
  streamed JSON-lines form (header, rows, ``{"meta":{}}`` lines interleaved); with it, ``meta`` + ``results``.

Facts live at strategy-and-day grain: each organization has agencies, advertisers, campaigns (in several
currencies and time zones) and ``strategies_per_campaign`` strategies; each strategy delivers on most days,
all of a day's delivery at one UTC hour (so ``by_hour`` and time zones have something to move). Numbers come
from :func:`emulators.facts.seeded` and money is kept in integer cents, converted to USD per strategy-day
with :func:`emulators.facts.convert_cents`. Rows are generated lazily, day by day, and streamed while they
are computed: a million-row answer costs a few MB of memory.

Demo credentials by default: username ``demo@example.com``, password ``demo-password``, client ID
``demo-client-id``, client secret ``demo-client-secret``, audience ``https://api.mediamath.com/``; the tap's
``auth_url`` is ``{url}/oauth/token`` and its ``api_url`` ``{url}/reporting/v2``.

Provider-specific faults (``emulator.faults.add(kind, path=..., params={...})``), taken per report request:
- ``throttle``: answer ``status`` (429 by default, or 503) in the documented error shape with
  ``Retry-After: retry_after``;
- ``stream_error``: a streamed answer that stops after ``params["after_rows"]`` rows (default 1) with an
  error object (``params["error_code"]``, ``params["message"]``);
- ``short_stream``: a streamed answer missing its last ``params["missing"]`` rows (default 1) although the
  header announced them all;
- ``uncounted``: a streamed answer whose header says ``total_items_count: -1``;
- ``wrong_type`` (a contract breach): the first data row of the answer (streamed, or the page's) carries its
  first metric as a string (``"n/a"``);
- ``outside_window`` (a contract breach): the first data row of the answer (streamed, or the page's) is dated
  the period before the requested window (its ``agg_timestamp``; answers with ``rollup: all`` have none).
The generic faults of :mod:`emulators.server` apply too (``expire_tokens`` for an expired token, ...).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import math
import re
import secrets
import threading
import time
import typing as t
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulators.facts import convert_cents, days, seeded
from emulators.server import Emulator, Fault, HTTPError, Request, Response, json_response, jsonl_response, route

CATALOG: dict = json.loads((Path(__file__).with_name("mediamath_fields.json")).read_text())
DATASETS: dict[str, dict] = CATALOG["datasets"]

UTC = dt.UTC
ROLLUPS = ("all", "by_hour", "by_day", "by_week", "by_month")
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "=~", "and", "or", "isNull", "isNotNull")
DEFAULT_AUDIENCE = "https://api.mediamath.com/"
REPORT_PATH = "/reporting/v2/"

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "AUD", "CAD", "USD", "NZD")
ZONES = ("America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney", "America/Toronto",
         "Europe/Paris", "UTC", "Pacific/Auckland")

# Base facts kept per strategy-day (integers; money in cents of the campaign currency or of USD).
BASE = ("impressions", "clicks", "post_click_conversions", "post_view_conversions", "spend", "spend_usd",
        "pc_revenue", "pc_revenue_usd", "pv_revenue", "pv_revenue_usd")
_I = {name: i for i, name in enumerate(BASE)}

# Additive metrics: name -> (expression over base sums, is money in cents).
ADDITIVE: dict[str, tuple[t.Callable[[list[int]], int], bool]] = {
    "impressions": (lambda b: b[0], False),
    "clicks": (lambda b: b[1], False),
    "total_clicks": (lambda b: b[1], False),
    "post_click_conversions": (lambda b: b[2], False),
    "post_view_conversions": (lambda b: b[3], False),
    "total_conversions": (lambda b: b[2] + b[3], False),
    "total_spend": (lambda b: b[4], True),
    "total_spend_usd": (lambda b: b[5], True),
    "post_click_revenue": (lambda b: b[6], True),
    "post_click_revenue_usd": (lambda b: b[7], True),
    "post_view_revenue": (lambda b: b[8], True),
    "post_view_revenue_usd": (lambda b: b[9], True),
    "total_revenue": (lambda b: b[6] + b[8], True),
    "total_revenue_usd": (lambda b: b[7] + b[9], True),
}


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return None if not den else round(num * scale / den, 6)


# Ratio metrics, computed from the group's sums (money numerators in cents, so / 100).
RATIOS: dict[str, t.Callable[[list[int]], float | None]] = {
    "ctr": lambda b: _ratio(b[1], b[0]),
    "ctc": lambda b: _ratio(b[2], b[1]),
    "rr_per_1k_imps": lambda b: _ratio(b[2] + b[3], b[0], 1000),
    "total_spend_cpm": lambda b: _ratio(b[4], b[0], 10),
    "total_spend_cpm_usd": lambda b: _ratio(b[5], b[0], 10),
    "total_spend_cpc": lambda b: _ratio(b[4], b[1], 0.01),
    "total_spend_cpc_usd": lambda b: _ratio(b[5], b[1], 0.01),
    "total_spend_cpa": lambda b: _ratio(b[4], b[2] + b[3], 0.01),
    "total_spend_cpa_usd": lambda b: _ratio(b[5], b[2] + b[3], 0.01),
    "total_spend_roi": lambda b: _ratio(b[6] + b[8], b[4]),
    "total_aov": lambda b: _ratio(b[6] + b[8], b[2] + b[3], 0.01),
    "total_aov_usd": lambda b: _ratio(b[7] + b[9], b[2] + b[3], 0.01),
}


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _request_id() -> str:
    return secrets.token_urlsafe(24)[:32]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HTTPError:
    return HTTPError(status, {"error_code": code, "request_id": _request_id(), "message": message}, headers)


def _bad(message: str) -> HTTPError:
    return _error(400, "BadRequest", message)


def rfc3339(moment: dt.datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_rfc3339(value: t.Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise _bad(f"{name} must be an RFC3339 date-time string")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _bad(f"{name} is not a valid RFC3339 date-time: {value}") from None
    if moment.tzinfo is None:
        raise _bad(f"{name} is not a valid RFC3339 date-time (no offset): {value}")
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- entities


@dataclasses.dataclass
class Strategy:
    sid: int
    org_id: int
    currency: str
    zone: str
    attrs: dict[str, t.Any]  # the modeled dimension values


@dataclasses.dataclass
class Query:
    dataset: str
    fields: list[str]  # as requested
    dims: list[str]  # requested dimensions other than agg_timestamp
    metrics: list[str]
    filters: list[dict]
    rollup: str
    start: dt.datetime
    end: dt.datetime
    time_zone: str | None
    max_results: int | None = None


class MediaMathEmulator(Emulator):
    """The MediaMath Reporting API v2 and its Auth0 token endpoint."""

    name = "mediamath"

    def __init__(
        self,
        *,
        organizations: t.Sequence[tuple[int, str]] = ((100001, "Acme Media Group"), (100002, "Borealis Digital")),
        agencies_per_organization: int = 2,
        advertisers_per_agency: int = 2,
        campaigns_per_advertiser: int = 2,
        strategies_per_campaign: int = 3,
        username: str = "demo@example.com",
        password: str = "demo-password",
        client_id: str = "demo-client-id",
        client_secret: str = "demo-client-secret",
        audience: str = DEFAULT_AUDIENCE,
        token_ttl: float = 86400.0,
        max_page_size: int = 10000,
        meta_every: int = 1000,
        today: str | None = None,
        accounts: int | None = None,
        latency_ms: float = 0,
        latency_jitter_ms: float = 0,
    ) -> None:
        """``accounts`` is the scale of the universe shared by the three emulators: here the number of
        advertisers in each organization (default ``agencies_per_organization x advertisers_per_agency``)."""
        super().__init__(token_ttl=token_ttl, latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms)
        self.credentials = {"username": username, "password": password, "client_id": client_id,
                            "client_secret": client_secret}
        self.audience = audience
        self.max_page_size = max_page_size
        self.meta_every = meta_every
        self.today = dt.date.fromisoformat(today) if today else None
        self.organizations = {int(org_id): name for org_id, name in organizations}
        self.strategies: list[Strategy] = []
        self.campaign_currency: dict[int, str] = {}
        self._generic_cache: dict[tuple[int, str], t.Any] = {}
        self._counter_lock = threading.Lock()
        self.token_requests = 0
        self.report_requests = 0
        self.rows_streamed = 0  # data rows written into streamed answers so far (tests watch it grow)
        self._build_entities(agencies_per_organization, advertisers_per_agency, campaigns_per_advertiser,
                             strategies_per_campaign, accounts)

    # ------------------------------------------------------------------ entities

    def _build_entities(self, agencies: int, advertisers: int, campaigns: int, strategies: int,
                        accounts: int | None) -> None:
        base = agencies * advertisers
        count = base if accounts is None else accounts
        if count < 0:
            raise ValueError("accounts must be >= 0")
        for org_index, (org_id, org_name) in enumerate(self.organizations.items()):
            sid = 5_000_000 + org_index * 10_000_000
            for n in range(count):
                # The first ``base`` advertisers are the default universe (its campaign numbering across
                # organizations included); further ones fill further agencies of ``advertisers`` each.
                ag, adv = divmod(n, advertisers) if advertisers else (0, n)
                if n < base:
                    first_campaign_n = org_index * base * campaigns + n * campaigns
                    campaign_count = campaigns
                else:
                    extra = n - base
                    first_campaign_n = org_index * 3 + extra * campaigns + 1  # other currency/zone mixes
                    # Generated advertisers run 1 to 3 campaigns; every fifth one none (no data at all).
                    campaign_count = 0 if extra % 5 == 4 else 1 + extra % 3
                if ag >= 100 or adv >= 10 or campaign_count > 10:
                    raise ValueError(f"accounts={accounts} is beyond the id layout (100 agencies of 10 advertisers)")
                for cp in range(campaign_count):
                    sid = self._add_campaign(org_index, org_id, org_name, ag, adv, cp, first_campaign_n + cp,
                                             strategies, sid)

    def _add_campaign(self, org_index: int, org_id: int, org_name: str, ag: int, adv: int, cp: int,
                      campaign_n: int, strategies: int, sid: int) -> int:
        """Add one campaign's strategies; returns the last strategy id used."""
        agency_id = 20_000 + org_index * 100 + ag
        advertiser_id = 300_000 + org_index * 1000 + ag * 10 + adv
        campaign_id = 4_000_000 + org_index * 10_000 + ag * 100 + adv * 10 + cp
        currency = CURRENCIES[campaign_n % len(CURRENCIES)]
        zone = ZONES[campaign_n % len(ZONES)]
        self.campaign_currency[campaign_id] = currency
        for st in range(strategies):
            sid += 1
            attrs = {
                "organization_id": org_id,
                "organization_name": org_name,
                "agency_id": agency_id,
                "agency_name": f"{org_name} Agency {ag + 1}",
                "advertiser_id": advertiser_id,
                "advertiser_name": f"Advertiser {advertiser_id}",
                "campaign_id": campaign_id,
                "campaign_name": f"Campaign {campaign_id} ({currency})",
                "campaign_currency_code": currency,
                "campaign_zone_name": zone,
                "campaign_status": "active" if cp % 2 == 0 else "inactive",
                "strategy_id": sid,
                "strategy_name": f"Strategy {sid}",
                "strategy_status": "active" if st % 3 else "inactive",
                "strategy_channel": "VIDEO" if st % 2 else "DISPLAY",
                "exchange_id": 10 + st % 5,
                "exchange_name": f"Exchange {10 + st % 5}",
            }
            self.strategies.append(Strategy(sid, org_id, currency, zone, attrs))
        return sid

    def _dimension(self, strategy: Strategy, name: str) -> t.Any:
        """A dimension value of a strategy: modeled, or derived deterministically from the catalog type."""
        value = strategy.attrs.get(name, _MISSING)
        if value is not _MISSING:
            return value
        key = (strategy.sid, name)
        cached = self._generic_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        spec = _field_spec(name)
        k = seeded(strategy.attrs["campaign_id"], name).randint(1, 4)
        kind = spec.get("type")
        if spec.get("format") == "date-time":
            value = rfc3339(dt.datetime(2024, k, 1, tzinfo=UTC))
        elif kind == "integer":
            value = 1000 + k
        elif kind == "number":
            value = k * 2.5
        elif kind == "boolean":
            value = k % 2 == 0
        else:
            value = f"{name.replace('_', ' ')} {k}"
        self._generic_cache[key] = value
        return value

    # ------------------------------------------------------------------ facts

    @staticmethod
    def delivers(strategy: Strategy, day: dt.date) -> bool:
        """Whether a strategy delivered on a UTC day (about 12 of 13 strategy-days)."""
        return (strategy.sid + day.toordinal() * 3) % 13 != 0

    @staticmethod
    def delivery_instant(strategy: Strategy, day: dt.date) -> dt.datetime:
        """All of a strategy-day's delivery happens in one UTC hour."""
        hour = (strategy.sid * 7 + day.toordinal()) % 24
        return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

    def base_facts(self, strategy: Strategy, day: dt.date) -> list[int]:
        rng = seeded("mediamath", strategy.sid, day.toordinal())
        impressions = rng.randint(1_000, 60_000)
        clicks = impressions * rng.randint(2, 40) // 10_000
        pcc = rng.randint(0, clicks // 4 + 1)
        pvc = rng.randint(0, 12)
        spend = impressions * rng.randint(120, 950) // 1000  # CPM of 1.20 to 9.50, in cents
        pc_revenue = pcc * rng.randint(500, 9_000)
        pv_revenue = pvc * rng.randint(300, 4_000)
        currency = strategy.currency
        return [impressions, clicks, pcc, pvc, spend, convert_cents(spend, currency, "USD"),
                pc_revenue, convert_cents(pc_revenue, currency, "USD"),
                pv_revenue, convert_cents(pv_revenue, currency, "USD")]

    @staticmethod
    def extra_metric(strategy: Strategy, day: dt.date, name: str) -> int:
        """An additive integer for a metric the emulator does not model (video, viewability, wins...)."""
        return seeded("mediamath-extra", strategy.sid, day.toordinal(), name).randint(0, 500)

    def facts(self, organization_id: int, start: dt.date, end: dt.date) -> t.Iterator[dict]:
        """Ground truth: every strategy-day fact of an organization for UTC days ``[start, end)``."""
        for day in days(start, end):
            for strategy in self.strategies:
                if strategy.org_id != organization_id or not self.delivers(strategy, day):
                    continue
                base = self.base_facts(strategy, day)
                yield {"day": day, "instant": self.delivery_instant(strategy, day), **strategy.attrs,
                       **dict(zip(BASE, base, strict=False))}

    def spend_by_campaign_day(self, organization_id: int, start: dt.date, end: dt.date,
                              usd: bool = False) -> dict[tuple[int, str], Decimal]:
        """Ground truth: spend (campaign currency, or USD) per (campaign_id, UTC day ISO) as exact Decimals."""
        totals: dict[tuple[int, str], int] = {}
        for fact in self.facts(organization_id, start, end):
            key = (fact["campaign_id"], fact["day"].isoformat())
            totals[key] = totals.get(key, 0) + fact["spend_usd" if usd else "spend"]
        return {key: Decimal(cents) / 100 for key, cents in totals.items()}

    def strategy_day_count(self, organization_id: int, start: dt.date, end: dt.date,
                           advertiser_ids: t.Collection[int] | None = None) -> int:
        """Ground truth: how many (strategy, day) rows a ``by_day`` performance report at strategy grain has."""
        return sum(
            1
            for day in days(start, end)
            for s in self.strategies
            if s.org_id == organization_id and self.delivers(s, day)
            and (not advertiser_ids or s.attrs["advertiser_id"] in advertiser_ids)
        )

    def reset(self) -> None:
        super().reset()
        with self._counter_lock:
            self.token_requests = 0
            self.report_requests = 0
            self.rows_streamed = 0

    def _now(self) -> dt.datetime:
        now = dt.datetime.now(UTC)
        if self.today:
            return dt.datetime.combine(self.today, now.time(), tzinfo=UTC)
        return now

    # ------------------------------------------------------------------ auth

    @route("POST", r"/oauth/token")
    def token(self, request: Request) -> Response:
        with self._counter_lock:
            self.token_requests += 1
        content_type = request.headers.get("Content-Type", "")
        body = request.json() if "json" in content_type else request.form()
        if not isinstance(body, dict):
            return json_response({"error": "invalid_request", "error_description": "Invalid body"}, 400)
        if body.get("grant_type") != "password":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "Unsupported grant type: " + str(body.get("grant_type"))}, 403)
        if body.get("client_id") != self.credentials["client_id"] or \
                body.get("client_secret") != self.credentials["client_secret"]:
            return json_response({"error": "access_denied", "error_description": "Unauthorized"}, 401)
        if body.get("audience") != self.audience:
            return json_response({"error": "access_denied",
                                  "error_description": f"Service not found: {body.get('audience')}"}, 403)
        if body.get("username") != self.credentials["username"] or \
                body.get("password") != self.credentials["password"]:
            return json_response({"error": "invalid_grant", "error_description": "Wrong email or password."}, 403)
        ttl = self.tokens.ttl_seconds
        now = int(time.time())
        header = _b64({"alg": "RS256", "typ": "JWT", "kid": "emulator"})
        payload = _b64({"iss": "https://auth.mediamath.com/", "sub": "auth0|emulator", "aud": self.audience,
                        "iat": now, "exp": now + int(ttl), "azp": body["client_id"]})
        signature = self.tokens.issue("sig")
        return json_response({"access_token": f"{header}.{payload}.{signature}", "expires_in": int(ttl),
                              "token_type": "Bearer", "scope": ""})

    def _authorize(self, request: Request) -> None:
        token = request.bearer_token()
        state = self.tokens.state(token.rsplit(".", 1)[-1] if token else None)
        if state == "expired":
            raise _error(401, "Unauthorized", "token is expired")
        if state != "valid":
            raise _error(401, "Unauthorized", "missing or invalid token")

    def not_found(self, request: Request) -> Response:
        return _error(404, "NotFound", f"resource not found: {request.path}").response()

    # ------------------------------------------------------------------ reports

    @route("POST", r"/reporting/v2/(?P<dataset>[a-z0-9-]+)")
    def report(self, request: Request, dataset: str) -> Response:
        with self._counter_lock:
            self.report_requests += 1
        rate = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": str(max(0, 100 - self.report_requests % 100)),
                "X-RateLimit-Reset": "60"}
        throttle = self.faults.take({"throttle"}, request.method, request.path)
        if throttle is not None:
            status = throttle.status if throttle.status in (429, 503) else 429
            headers = dict(rate, **({} if throttle.retry_after is None else {"Retry-After": f"{throttle.retry_after:g}"}))
            if status == 429:
                headers["X-RateLimit-Remaining"] = "0"
                raise _error(429, "TooManyRequests", "rate limit exceeded", headers)
            raise _error(503, "ServiceUnavailable", "service is overloaded, try again later", headers)
        self._authorize(request)
        if dataset not in DATASETS:
            raise _error(404, "NotFound", f"dataset does not exist: {dataset}")
        body = request.json()
        query = self.parse_query(dataset, body)
        broken = self.faults.take({"wrong_type", "outside_window"}, request.method, request.path)
        pagination = body.get("pagination")
        if pagination is not None:
            answer = self._paginated(query, pagination, broken)
            answer.headers.update(rate)
            return answer
        answer = self._streamed(query, request, broken)
        answer.headers.update(rate)
        return answer

    def parse_query(self, dataset: str, body: t.Any) -> Query:
        """Validate a request body against the dataset's table, as the API does (400 BadRequest)."""
        spec = DATASETS[dataset]
        table = spec["fields"]
        if not isinstance(body, dict):
            raise _bad("request body must be a JSON object")
        fields = body.get("fields")
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise _bad("fields is required and must be a non-empty array of strings")
        if len(set(fields)) != len(fields):
            raise _bad("fields must be unique")
        for name in fields:
            if name not in table:
                raise _bad(f"field does not exist in this dataset: {name}")
        filters = body.get("filters")
        if not isinstance(filters, list) or not filters:
            raise _bad("filters is required and must be a non-empty array")
        for item in filters:
            self._check_filter(item, table, depth=0)
        if dataset == "deals":
            _require_filter(filters, "organization_id", exactly_one=True)
            _require_filter(filters, "deal_id", exactly_one=False)
        rollup = body.get("rollup")
        if rollup not in ROLLUPS:
            raise _bad(f"rollup is required and must be one of {', '.join(ROLLUPS)}")
        if rollup not in spec["rollups"]:
            raise _bad(f"rollup {rollup} is not supported in this dataset (use {', '.join(spec['rollups'])})")
        if rollup != "all" and "agg_timestamp" in table and table["agg_timestamp"].get("rollups") and \
                rollup not in table["agg_timestamp"]["rollups"]:
            raise _bad(f"rollup {rollup} is not supported in this dataset")
        time_zone = body.get("time_zone")
        if time_zone is not None:
            if not spec["time_zones"]:
                raise _bad("time_zone is not supported in this dataset")
            if time_zone not in ("UTC", "campaign"):
                try:
                    ZoneInfo(str(time_zone))
                except (ZoneInfoNotFoundError, ValueError):
                    raise _bad(f"unknown time_zone: {time_zone}") from None
        start, end = self._time_range(body)
        max_results = body.get("max_results")
        if max_results is not None and (not isinstance(max_results, int) or max_results < 1):
            raise _bad("max_results must be a positive integer")
        dims = [f for f in fields if table[f]["kind"] == "dimension" and f != "agg_timestamp"]
        metrics = [f for f in fields if table[f]["kind"] == "metric"]
        return Query(dataset, fields, dims, metrics, filters, rollup, start, end, time_zone, max_results)

    def _time_range(self, body: dict) -> tuple[dt.datetime, dt.datetime]:
        window = body.get("time_window")
        now = self._now()
        if window is not None:  # "If both are present, time_window will be used."
            today = dt.datetime.combine(now.date(), dt.time(), tzinfo=UTC)
            if window == "current_day":
                return today, now
            if window == "yesterday":
                return today - dt.timedelta(days=1), today
            if window == "month_to_date":
                return today.replace(day=1), now
            match = re.fullmatch(r"last_(\d+)_(days|hours)", str(window))
            if match and match.group(2) == "days":
                return today - dt.timedelta(days=int(match.group(1))), today
            if match:
                hour = now.replace(minute=0, second=0, microsecond=0)
                return hour - dt.timedelta(hours=int(match.group(1))), hour
            raise _bad(f"unsupported time_window: {window}")
        if "start_time" not in body:
            raise _bad("one of time_window or start_time is required")
        start = parse_rfc3339(body["start_time"], "start_time")
        end = parse_rfc3339(body["end_time"], "end_time") if body.get("end_time") is not None else now
        if end <= start:
            raise _bad("end_time must be after start_time")
        return start, end

    def _check_filter(self, item: t.Any, table: dict, depth: int) -> None:
        if not isinstance(item, dict):
            raise _bad("each filter must be an object")
        op = item.get("op", "=")
        if op not in OPERATORS:
            raise _bad(f"invalid filter operator: {op}")
        if op in ("and", "or"):
            nested = item.get("filters")
            if not isinstance(nested, list) or len(nested) < 2:
                raise _bad(f"filter with op {op} requires filters with at least 2 items")
            for sub in nested:
                self._check_filter(sub, table, depth + 1)
            return
        field = item.get("field")
        if not isinstance(field, str):
            raise _bad("filter field is required")
        if field not in table and field != "organization_id":
            raise _bad(f"filter field does not exist in this dataset: {field}")
        if op not in ("isNull", "isNotNull") and "value" not in item:
            raise _bad(f"filter value is required for field {field}")
        if op not in ("=", "!=") and isinstance(item.get("value"), list):
            raise _bad(f"filter operator {op} does not accept an array value (field {field})")

    # ------------------------------------------------------------------ evaluation

    def rows(self, query: Query, *, count_only: bool = False) -> t.Iterator[dict] | int:
        """The answer's rows in order (generated lazily), or with ``count_only`` their number (-1: uncountable)."""
        table = DATASETS[query.dataset]["fields"]
        filter_fields = set(_filter_fields(query.filters))
        row_level = [f for f in query.filters if set(_filter_fields([f])) & (set(table_metrics(table)) | {"agg_timestamp"})]
        strategy_level = [f for f in query.filters if f not in row_level]
        if count_only and any(table.get(f, {}).get("kind") == "metric" for f in filter_fields):
            return -1
        strategies = [s for s in self.strategies if _matches_all(strategy_level, lambda n, s=s: self._dimension(s, n))]
        generator = self._generate(query, strategies, row_level, count_only)
        if count_only:
            return sum(1 for _ in generator)
        return generator

    def _generate(self, query: Query, strategies: list[Strategy], row_filters: list[dict],
                  count_only: bool) -> t.Iterator[dict]:
        table = DATASETS[query.dataset]["fields"]
        extras = [m for m in query.metrics if m not in ADDITIVE and m not in RATIOS]
        need_metrics = not count_only or bool(row_filters)
        zone_of = self._zone_resolver(query.time_zone)
        pending: dict[dt.datetime, dict[tuple, list]] = {}
        first_day = query.start.date() - dt.timedelta(days=1)
        last_day = query.end.date() + dt.timedelta(days=1)
        dims = query.dims
        emitted = 0
        for day in days(first_day, last_day):
            for strategy in strategies:
                if not self.delivers(strategy, day):
                    continue
                instant = self.delivery_instant(strategy, day)
                if not query.start <= instant < query.end:
                    continue
                base = self.base_facts(strategy, day) if need_metrics else None
                if row_filters:
                    period_ts = _truncate(instant, query.rollup, zone_of(strategy))
                    value_of = self._row_value_getter(strategy, day, base, period_ts, table)
                    if not _matches_all(row_filters, value_of):
                        continue
                period = _truncate(instant, query.rollup, zone_of(strategy)) if query.rollup != "all" else _ALL
                key = tuple(self._dimension(strategy, d) for d in dims)
                groups = pending.setdefault(period, {})
                acc = groups.get(key)
                if acc is None:
                    acc = groups[key] = [[0] * len(BASE), [0] * len(extras)]
                if count_only:
                    continue
                sums = acc[0]
                for i in range(len(BASE)):
                    sums[i] += base[i]
                for j, name in enumerate(extras):
                    acc[1][j] += self.extra_metric(strategy, day, name)
            horizon = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=UTC)
            for period in sorted(p for p in pending if p is not _ALL and _period_end(p, query.rollup) <= horizon):
                for row in self._emit(query, period, pending.pop(period), extras, count_only):
                    yield row
                    emitted += 1
                    if query.max_results and emitted >= query.max_results:
                        return
        rest = [_ALL] if _ALL in pending else sorted(pending)
        for period in rest:
            for row in self._emit(query, period, pending[period], extras, count_only):
                yield row
                emitted += 1
                if query.max_results and emitted >= query.max_results:
                    return

    def _emit(self, query: Query, period: t.Any, groups: dict[tuple, list], extras: list[str],
              count_only: bool) -> t.Iterator[dict]:
        if count_only:
            yield from (None for _ in groups)  # type: ignore[misc]
            return
        stamp = None if period is _ALL else rfc3339(period)
        for key, (sums, extra_sums) in groups.items():
            values = dict(zip(query.dims, key, strict=False))
            for name in query.metrics:
                if name in ADDITIVE:
                    func, money = ADDITIVE[name]
                    amount = func(sums)
                    values[name] = amount / 100 if money else amount
                elif name in RATIOS:
                    values[name] = RATIOS[name](sums)
                else:
                    values[name] = extra_sums[extras.index(name)]
            row = {f: values[f] for f in query.fields if f != "agg_timestamp"}
            if stamp is not None:
                row["agg_timestamp"] = stamp
            yield row

    def _row_value_getter(self, strategy: Strategy, day: dt.date, base: list[int] | None,
                          period: dt.datetime, table: dict) -> t.Callable[[str], t.Any]:
        def value(name: str) -> t.Any:
            if name == "agg_timestamp":
                return rfc3339(period)
            if table.get(name, {}).get("kind") == "metric":
                if name in ADDITIVE:
                    func, money = ADDITIVE[name]
                    amount = func(base)
                    return amount / 100 if money else amount
                if name in RATIOS:
                    return RATIOS[name](base)
                return self.extra_metric(strategy, day, name)
            return self._dimension(strategy, name)

        return value

    def _zone_resolver(self, time_zone: str | None) -> t.Callable[[Strategy], dt.tzinfo]:
        if time_zone is None or time_zone == "UTC":
            return lambda _strategy: UTC
        if time_zone == "campaign":
            zones: dict[str, dt.tzinfo] = {}
            return lambda s: zones.setdefault(s.zone, UTC if s.zone == "UTC" else ZoneInfo(s.zone))
        zone = ZoneInfo(time_zone)
        return lambda _strategy: zone

    # ------------------------------------------------------------------ answers

    @staticmethod
    def _break_row(query: Query, row: dict, fault: Fault) -> dict:
        """A copy of ``row`` breaching the contract as ``fault`` says: a metric as a string, or a date before the window."""
        row = dict(row)
        if fault.kind == "wrong_type":
            if query.metrics:
                row[query.metrics[0]] = "n/a"
        elif "agg_timestamp" in row:
            # The period before the one holding the window's start (a clipped first week or month is labelled
            # with its period's start, which may lie before start_time and is still inside the window).
            first = _truncate(query.start, query.rollup if query.rollup != "by_hour" else "by_day", UTC)
            row["agg_timestamp"] = rfc3339(_truncate(first - dt.timedelta(days=1), query.rollup, UTC))
        return row

    def _streamed(self, query: Query, request: Request, broken: Fault | None = None) -> Response:
        stream_error = self.faults.take({"stream_error"}, request.method, request.path)
        short = self.faults.take({"short_stream"}, request.method, request.path)
        uncounted = self.faults.take({"uncounted"}, request.method, request.path)
        count = -1 if uncounted else self.rows(query, count_only=True)
        if isinstance(count, int) and count >= 0 and query.max_results:
            count = min(count, query.max_results)
        names = (["agg_timestamp"] if query.rollup != "all" else []) + [f for f in query.fields if f != "agg_timestamp"]

        def lines() -> t.Iterator[dict]:
            yield {"fields": [{"name": n} for n in names], "total_items_count": count}
            yield {"meta": {}}
            rows = self.rows(query)
            limit = None
            if short is not None and isinstance(count, int) and count >= 0:
                limit = max(0, count - int(short.params.get("missing", 1)))
            error_after = int(stream_error.params.get("after_rows", 1)) if stream_error else None
            for n, row in enumerate(rows):
                if error_after is not None and n >= error_after:
                    break
                if limit is not None and n >= limit:
                    return
                if n and self.meta_every and n % self.meta_every == 0:
                    yield {"meta": {}}
                self.rows_streamed += 1
                yield row if broken is None or n else self._break_row(query, row, broken)
            if stream_error is not None:
                yield {"error_code": stream_error.params.get("error_code", "InternalServerError"),
                       "request_id": _request_id(),
                       "message": stream_error.params.get("message", "query execution failed")}

        answer = jsonl_response(lines())
        answer.headers["Content-Type"] = "application/jsonl"
        return answer

    def _paginated(self, query: Query, pagination: t.Any, broken: Fault | None = None) -> Response:
        if not isinstance(pagination, dict):
            raise _bad("pagination must be an object")
        size, index = pagination.get("page_size"), pagination.get("page_index", 0)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= self.max_page_size:
            raise _bad(f"pagination.page_size must be an integer between 1 and {self.max_page_size}")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise _bad("pagination.page_index must be an integer >= 0")
        query.max_results = None
        total = 0
        results = []
        for n, row in enumerate(self.rows(query)):  # type: ignore[arg-type]
            total += 1
            if index * size <= n < (index + 1) * size:
                results.append(row)
        if broken is not None and results:
            results[0] = self._break_row(query, results[0], broken)
        meta = {"page_index": index, "total_pages": math.ceil(total / size), "items_count": len(results),
                "total_items_count": total, "status": "OK"}
        return json_response({"meta": meta, "results": results})


# --------------------------------------------------------------------------- helpers

_MISSING = object()
_ALL = object()


def _field_spec(name: str) -> dict:
    for spec in DATASETS.values():
        if name in spec["fields"]:
            return spec["fields"][name]
    return {"type": "string"}


def table_metrics(table: dict) -> list[str]:
    return [name for name, spec in table.items() if spec["kind"] == "metric"]


def _filter_fields(filters: list[dict]) -> t.Iterator[str]:
    for item in filters:
        if item.get("op") in ("and", "or"):
            yield from _filter_fields(item.get("filters") or [])
        elif "field" in item:
            yield item["field"]


def _require_filter(filters: list[dict], field: str, exactly_one: bool) -> None:
    for item in filters:
        if item.get("field") == field and item.get("op", "=") == "=":
            value = item.get("value")
            n = len(value) if isinstance(value, list) else 1
            if (n == 1) if exactly_one else (n >= 1):
                return
    qualifier = "exactly 1 value" if exactly_one else "at least 1 value"
    raise _bad(f"this dataset requires the filter {field} with {qualifier}")


def _coerce(actual: t.Any, wanted: t.Any) -> t.Any:
    """The filter value in the type of the row's value (ids may be sent as strings)."""
    if isinstance(actual, bool) or wanted is None:
        return wanted
    if isinstance(actual, (int, float)) and isinstance(wanted, str):
        try:
            return type(actual)(wanted)
        except ValueError:
            return wanted
    return wanted


def matches(item: dict, value_of: t.Callable[[str], t.Any]) -> bool:
    """Whether one filter (possibly nested) matches a row, read through ``value_of``."""
    op = item.get("op", "=")
    if op == "and":
        return all(matches(sub, value_of) for sub in item["filters"])
    if op == "or":
        return any(matches(sub, value_of) for sub in item["filters"])
    actual = value_of(item["field"])
    if op == "isNull":
        return actual is None
    if op == "isNotNull":
        return actual is not None
    wanted = item.get("value")
    if op in ("=", "!="):
        hit = actual in [_coerce(actual, w) for w in wanted] if isinstance(wanted, list) else actual == _coerce(actual, wanted)
        return hit if op == "=" else not hit
    if op == "=~":
        return actual is not None and str(wanted).lower() in str(actual).lower()
    if actual is None:
        return False
    wanted = _coerce(actual, wanted)
    try:
        if op == ">":
            return actual > wanted
        if op == ">=":
            return actual >= wanted
        if op == "<":
            return actual < wanted
        return actual <= wanted
    except TypeError:
        return False


def _matches_all(filters: list[dict], value_of: t.Callable[[str], t.Any]) -> bool:
    return all(matches(item, value_of) for item in filters)


def _truncate(instant: dt.datetime, rollup: str, zone: dt.tzinfo) -> dt.datetime:
    local = instant.astimezone(zone)
    if rollup == "by_hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if rollup == "by_week":
        day -= dt.timedelta(days=day.weekday())
    elif rollup == "by_month":
        day = day.replace(day=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


def _period_end(start: dt.datetime, rollup: str) -> dt.datetime:
    """The UTC instant a period (given by its local start) ends."""
    zone = start.tzinfo
    if rollup == "by_hour":
        return (start.astimezone(UTC) + dt.timedelta(hours=1))
    day = start.date()
    if rollup == "by_day":
        nxt = day + dt.timedelta(days=1)
    elif rollup == "by_week":
        nxt = day + dt.timedelta(days=7)
    else:
        nxt = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)
