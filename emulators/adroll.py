"""AdRoll (NextRoll) CRUD API v1 emulator: the endpoints tap-adroll calls.

Paths, parameters, envelopes and errors follow ``api-docs/adroll-crud-api-v1.txt``:

- every answer is ``{"results": ...}``; every error is ``{"errors": ["<message>"]}``;
- auth: ``Authorization: Token <PAT>`` with ``?apikey=<client id>`` (401 without the apikey or with a
  bad PAT), or ``Authorization: Bearer <access token>`` from ``POST /auth/token`` (refresh-token grant;
  refresh tokens are single-use and rotate: a used one is rejected with ``invalid_grant``);
- ``organization/get``, ``organization/get_advertisables``, ``advertisable/get_campaigns`` (only active
  campaigns unless ``is_active=false``), ``advertisable/get_adgroups`` (only adgroups of active campaigns
  unless ``camp_active=false``), ``advertisable/get_ads`` (only active ads unless ``is_active=false``),
  ``advertisable/get_segments``;
- ``report/ad``, ``report/campaign``, ``report/advertisable`` with ``data_format`` (entity, summary, date),
  ``start_date``/``end_date`` (``MM-DD-YYYY``, both inclusive), ``currency`` and the entity filters
  (repeated or comma-separated lists);
- a per-day request quota (``quota_per_day``; None = unlimited): past it, 429 with ``Retry-After``
  (``quota_retry_after`` seconds, or by default the time to midnight UTC, when the quota resets);
- provider faults (contract breaches) on entity reports: ``wrong_type`` (the first row's cost as a string),
  ``outside_window`` (an extra row of an advertisable that was not asked for; entity rows carry no date); on
  entity lists, ``nested_element``: the first element of a nested list (``params["property"]``, by default
  ``adgroups`` of campaigns and ads, ``ads`` of adgroups) of the answer's first entity replaced by
  ``params["element"]`` (default ``42``: neither an EID nor an object).

Nested entity lists come in one of two shapes (``nested_lists``). ``"production"`` (the default) answers as the
production API does (and as the published singer-io tap-adroll types it): an ad's ``adgroups`` and an adgroup's
``ads`` are ``{id, status}`` objects, an adgroup's ``segments`` ``{id, is_negative}``, a campaign's ``adgroups``
EIDs. ``"docs"`` answers as the docs read: an ad's ``adgroups`` is "the list of adgroup EIDs" (the other lists as
the docs describe them, as in production). From the fifth advertisable on, one ad of each advertisable that has a
campaign with two adgroups belongs to both (the demo universe of four has every ad in one adgroup).

Demo credentials by default: client ID ``demo-client-id``, client secret ``demo-client-secret``, personal access
token ``demo-personal-access-token``, OAuth access token ``demo-access-token``, refresh token ``demo-refresh-token``.

Facts are deterministic: money is integer cents in each advertisable's currency, generated per
(ad, day) and converted per report row with :func:`emulators.facts.convert_cents`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import threading
import time
import typing as t
from decimal import ROUND_HALF_EVEN, Decimal

from emulators.facts import USD_RATES, convert_cents, seeded
from emulators.server import Emulator, HTTPError, Request, Response, TokenStore, json_response, route

API = "/api/v1"
REPORT_KINDS = ("ad", "campaign", "advertisable")
NESTED_LIST_SHAPES = ("production", "docs")
CURRENCIES = ("USD", "GBP", "USD", "EUR", "USD", "AUD")


def make_eid(*key: object) -> str:
    """A 22-character AdRoll-style EID derived from ``key``."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
    return base64.b32encode(digest).decode()[:22]


def parse_day(value: str, name: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%m-%d-%Y").date()
    except ValueError:
        raise HTTPError(400, {"errors": [f"Invalid {name} '{value}': expected MM-DD-YYYY"]}) from None


def _money(cents: int) -> float:
    return float(Decimal(cents) / 100)


def _ratio(numerator: Decimal, denominator: int, places: str) -> float:
    if not denominator:
        return 0.0
    return float((numerator / denominator).quantize(Decimal(places), rounding=ROUND_HALF_EVEN))


def _iso(day: dt.date, hour: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


class _Tokens(TokenStore):
    """Access tokens (expiring) plus single-use refresh tokens, revoked together."""

    def __init__(self, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self.refresh: dict[str, bool] = {}  # refresh token -> still usable

    def register(self, token: str) -> None:
        with self._lock:
            self._expiry[token] = time.monotonic() + self.ttl_seconds
            self.issued.append(token)

    def revoke_all(self) -> None:
        super().revoke_all()
        with self._lock:
            self.refresh.clear()


class AdRollEmulator(Emulator):
    """The AdRoll CRUD API v1, as far as reporting needs it."""

    name = "adroll"

    def __init__(
        self,
        *,
        token_ttl: float = 86400.0,
        quota_per_day: int | None = None,
        quota_retry_after: float | None = None,
        client_id: str = "demo-client-id",
        client_secret: str = "demo-client-secret",
        personal_access_token: str = "demo-personal-access-token",
        access_token: str = "demo-access-token",
        refresh_token: str = "demo-refresh-token",
        seed: str = "adroll",
        advertisables: int = 4,
        accounts: int | None = None,
        latency_ms: float = 0,
        latency_jitter_ms: float = 0,
        nested_lists: str = "production",
    ) -> None:
        """``accounts`` is the scale of the universe shared by the three emulators: here the number of
        advertisables (overriding ``advertisables``). The first four are always the same; from the fifth on,
        every fifth one runs no campaign (an advertisable without data). ``nested_lists``: the shape of nested
        entity lists, ``"production"`` or ``"docs"`` (see the module's docstring)."""
        super().__init__(token_ttl=token_ttl, latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms)
        if accounts is not None:
            advertisables = accounts
        if advertisables < 0:
            raise ValueError("advertisables must be >= 0")
        if nested_lists not in NESTED_LIST_SHAPES:
            raise ValueError(f"nested_lists must be one of {', '.join(NESTED_LIST_SHAPES)}, not {nested_lists!r}")
        self.nested_lists = nested_lists
        self.tokens = _Tokens(token_ttl)
        self.quota_per_day = quota_per_day
        self.quota_retry_after = quota_retry_after
        self.client_id = client_id
        self.client_secret = client_secret
        self.personal_access_token = personal_access_token
        self.initial_access_token = access_token
        self.initial_refresh_token = refresh_token
        self.seed = seed
        self.advertisable_count = advertisables
        self._quota_lock = threading.Lock()
        self.quota_used: dict[dt.date, int] = {}
        self.organization = self._make_organization()
        # Advertisables the credentials may no longer read: their per-advertisable endpoints, and reports that name
        # them, answer 403.
        self.forbidden_advertisables: set[str] = set()
        self._issue_initial_tokens()

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        super().reset()
        self.reset_quota()
        self._issue_initial_tokens()

    def reset_quota(self) -> None:
        """Forget today's request count (as if a new quota day started)."""
        with self._quota_lock:
            self.quota_used.clear()

    def _issue_initial_tokens(self) -> None:
        self.tokens.register(self.initial_access_token)
        with self.tokens._lock:
            self.tokens.refresh[self.initial_refresh_token] = True

    def secrets(self) -> list[str]:
        """Every secret this emulator knows or issued: a tap's output must contain none."""
        with self.tokens._lock:
            refresh = list(self.tokens.refresh)
        return [self.client_secret, self.personal_access_token, *self.tokens.issued, *refresh]

    # ------------------------------------------------------------------ facts

    def _make_organization(self) -> dict:
        rng = seeded(self.seed, "organization")
        created = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(365))
        return {"eid": make_eid(self.seed, "organization"), "name": "Emulated Retail Group", "created_date": _iso(created)}

    @functools.cached_property
    def advertisables(self) -> list[dict]:
        """Every advertisable of the organization, in their "get" representation."""
        out = []
        for index in range(self.advertisable_count):
            rng = seeded(self.seed, "advertisable", index)
            eid = make_eid(self.seed, "advertisable", index)
            created = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(700))
            out.append(
                {
                    "eid": eid,
                    "name": f"Advertisable {index + 1}",
                    "organization": self.organization["eid"],
                    "is_active": index != 3,
                    "status": "approved",
                    "url": f"https://shop{index + 1}.example.com",
                    "product_name": f"Brand {index + 1}",
                    "click_through_conversion_window": 30,
                    "view_through_conversion_window": 1,
                    "created_date": _iso(created, 9),
                    "updated_date": _iso(created + dt.timedelta(days=rng.randrange(300)), 10),
                    "attached_users": [],
                    "blacklisted_sites": [],
                    "enable_customer_multi_dur_segs": False,
                    "is_coop_approved": rng.random() < 0.5,
                    "is_publisher": False,
                    "iab1_category_id": rng.randrange(1, 27),
                    "iab1_category_name": None,
                    "iab2_category_id": None,
                    "iab2_category_name": None,
                    "iab_content_id": None,
                    "zvelo_category_id": None,
                    "zvelo_category_name": None,
                    "approval_state": "approved",
                    "has_privacy_policy": True,
                    "ops": None,
                    "optimizer": None,
                    "saleser": None,
                    "liquidads": None,
                    "has_approved_consent_solution": True,
                    "business_unit": "SMB",
                    "company_phone": f"+1-555-010{index}",
                    "ecomm_platform_plan": None,
                    # Not part of the documented representation: kept private, used for money facts.
                    "_currency": CURRENCIES[index % len(CURRENCIES)],
                    "_without_data": index >= 4 and index % 5 == 4,
                }
            )
        return out

    def currency_of(self, advertisable_eid: str) -> str:
        return self._advertisable(advertisable_eid)["_currency"]

    def _advertisable(self, eid: str) -> dict:
        for advertisable in self.advertisables:
            if advertisable["eid"] == eid:
                return advertisable
        raise HTTPError(404, {"errors": [f"Advertisable '{eid}' not found"]})

    @functools.cache  # noqa: B019 - one emulator per test, few advertisables
    def _tree(self, advertisable_eid: str) -> dict[str, list[dict]]:
        """Campaigns, adgroups, ads and segments of one advertisable."""
        rng = seeded(self.seed, "tree", advertisable_eid)
        campaigns, adgroups, ads = [], [], []
        campaign_count = rng.randint(3, 5)
        if self._advertisable(advertisable_eid)["_without_data"]:
            campaign_count = 0
        # Beyond the demo universe, one ad in two adgroups (ads[eid]["adgroups"] holds both, in order).
        share_an_ad = self.advertisable_eids().index(advertisable_eid) >= 4
        for c in range(campaign_count):
            active = c == 0 or (c != 1 and rng.random() < 0.6)
            ceid = make_eid(self.seed, advertisable_eid, "campaign", c)
            start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(400))
            campaign = {
                "eid": ceid,
                "name": f"Campaign {c + 1}",
                "advertisable": advertisable_eid,
                "adgroups": [],
                "budget": rng.randrange(1000, 50000) / 10,
                "ui_budget_daily": rng.random() < 0.5,
                "created_date": _iso(start - dt.timedelta(days=3), 8),
                "updated_date": _iso(start, 9),
                "cpc": rng.randrange(10, 300) / 100,
                "cpm": rng.randrange(100, 900) / 100,
                "max_cpm": rng.randrange(900, 2000) / 100,
                "start_date": _iso(start),
                "end_date": None if active else _iso(start + dt.timedelta(days=90)),
                "is_active": active,
                "is_facebook": False,
                "is_fbx_newsfeed": False,
                "is_retargeting": c % 2 == 0,
                "is_fb_wca": False,
                "is_apple": False,
                "is_ctv": False,
                "pricing_strategies": [],
                "status": "approved" if active else rng.choice(["completed", "cancelled"]),
                "billing_auth_status": "launched",
                "is_coop": False,
                "is_pubgraph": False,
                "spend_limit_until": None,
                "bid_strategy": "auto",
                "bid_strategy_target": None,
            }
            campaigns.append(campaign)
            for g in range(rng.randint(1, 2)):
                geid = make_eid(self.seed, ceid, "adgroup", g)
                campaign["adgroups"].append(geid)
                adgroup = {
                    "eid": geid,
                    "name": f"Ad group {c + 1}.{g + 1}",
                    "campaign": ceid,
                    "status": rng.choice(["approved", "paused"]),
                    "ad_optimization": "auto",
                    "created_date": campaign["created_date"],
                    "updated_date": campaign["updated_date"],
                    "geo_targets": [],
                    "ads": [],
                    "segments": [],
                    "site_exclusions": [],
                    "platform_targets": [],
                    "placement_targets": ["all"],
                    "flight_timezone": "UTC",
                    "product_set": None,
                }
                adgroups.append(adgroup)
                for a in range(rng.randint(1, 3)):
                    aeid = make_eid(self.seed, geid, "ad", a)
                    width, height = rng.choice([(300, 250), (728, 90), (160, 600), (320, 50)])
                    ad_active = rng.random() < 0.75
                    membership = {"id": aeid, "status": "active" if ad_active else "paused"}
                    adgroup["ads"].append(membership)
                    ads.append(
                        {
                            "eid": aeid,
                            "name": f"Ad {c + 1}.{g + 1}.{a + 1}",
                            "advertisable": advertisable_eid,
                            # Production's shape; the public views give the docs' shape when asked.
                            "adgroups": [{"id": geid, "status": membership["status"]}],
                            "ad_format_id": 1,
                            "ad_format": f"{width} wide x {height} high",
                            "ad_format_name": f"{width}x{height}",
                            "has_future_campaigns": active,
                            "destination_url": "https://shop.example.com/landing",
                            "headline": "",
                            "body": "",
                            "message": "",
                            "is_active": ad_active,
                            "src": f"https://cdn.example.com/{aeid}.png",
                            "status": "approved" if ad_active else "paused",
                            "type": "image",
                            "height": height,
                            "width": width,
                            "created_date": campaign["created_date"],
                            "updated_date": campaign["updated_date"],
                            "has_edits": False,
                            "has_pending_edits": False,
                            "original_ad": None,
                            "is_outlined": False,
                            "outline_color": None,
                            "valid_clicktag": True,
                            "display_url_override": None,
                            "_campaign": ceid,
                        }
                    )
            if share_an_ad and len(campaign["adgroups"]) == 2:
                shared = next(ad for ad in ads if ad["adgroups"][0]["id"] == campaign["adgroups"][0])
                second = next(group for group in adgroups if group["eid"] == campaign["adgroups"][1])
                status = shared["adgroups"][0]["status"]
                second["ads"].append({"id": shared["eid"], "status": status})
                shared["adgroups"].append({"id": second["eid"], "status": status})
                share_an_ad = False
        segments = []
        for s in range(rng.randint(2, 4)):
            seid = make_eid(self.seed, advertisable_eid, "segment", s)
            segments.append(
                {
                    "eid": seid,
                    "display_name": f"Visitors {s + 1}",
                    "name": f"visitors_{s + 1}",
                    "type": rng.choice(["s", "c", "b"]),
                    "match_method": "contains",
                    "pattern": f"/section-{s + 1}/",
                    "threshold": 0,
                    "duration": rng.choice([30, 60, 90, 180]),
                    "conversion_value": rng.randrange(0, 5000) / 100,
                    "group": s,
                    "mobile": {},
                    "product": "retargeting",
                }
            )
        for adgroup in adgroups:
            adgroup["segments"] = [{"id": segments[0]["eid"], "is_negative": False}]
        return {"campaigns": campaigns, "adgroups": adgroups, "ads": ads, "segments": segments}

    def _ad_day_cents(self, advertisable_eid: str, ad_eid: str, day: dt.date) -> tuple[int, int, int, int] | None:
        """(impressions, clicks, cost cents in the advertisable's currency, prospects) of one ad on one day."""
        rng = seeded(self.seed, "ad-day", advertisable_eid, ad_eid, day.isoformat())
        if rng.random() < 0.15:
            return None
        impressions = rng.randint(200, 40000)
        clicks = rng.randint(0, max(1, impressions // 80))
        cost_cents = rng.randint(50, 60000)
        prospects = rng.randint(0, clicks)
        return impressions, clicks, cost_cents, prospects

    # ------------------------------------------------------------------ public views (ground truth)

    # The public views are the API's answers, nested lists in this emulator's shape (copies: callers may edit).

    def campaigns(self, advertisable_eid: str, is_active: bool | None = None) -> list[dict]:
        return [
            {**self._public(c), "adgroups": list(c["adgroups"])}
            for c in self._tree(advertisable_eid)["campaigns"]
            if is_active in (None, c["is_active"])
        ]

    def adgroups(self, advertisable_eid: str, camp_active: bool | None = None) -> list[dict]:
        active = {c["eid"]: c["is_active"] for c in self._tree(advertisable_eid)["campaigns"]}
        return [
            {**g, "ads": [dict(m) for m in g["ads"]], "segments": [dict(m) for m in g["segments"]]}
            for g in self._tree(advertisable_eid)["adgroups"]
            if camp_active in (None, active[g["campaign"]])
        ]

    def ads(self, advertisable_eid: str, is_active: bool | None = None) -> list[dict]:
        return [
            {**self._public(a), "adgroups": self._adgroups_of(a)}
            for a in self._tree(advertisable_eid)["ads"]
            if is_active in (None, a["is_active"])
        ]

    def _adgroups_of(self, ad: dict) -> list:
        """An ad's ``adgroups``: ``{id, status}`` objects (production), or the adgroup EIDs (the docs)."""
        if self.nested_lists == "docs":
            return [group["id"] for group in ad["adgroups"]]
        return [dict(group) for group in ad["adgroups"]]

    def segments(self, advertisable_eid: str) -> list[dict]:
        return list(self._tree(advertisable_eid)["segments"])

    def advertisable_eids(self) -> list[str]:
        return [a["eid"] for a in self.advertisables]

    @staticmethod
    def _public(entity: dict) -> dict:
        return {k: v for k, v in entity.items() if not k.startswith("_")}

    def truth_report(
        self,
        kind: str,
        day: dt.date,
        advertisable_eids: t.Sequence[str] | None = None,
        currency: str = "USD",
        end_day: dt.date | None = None,
    ) -> list[dict]:
        """The entity-format rows of ``report/<kind>`` for ``day`` (to ``end_day``, inclusive)."""
        eids = list(advertisable_eids) if advertisable_eids else self.advertisable_eids()
        return self._entity_rows(kind, day, end_day or day, eids, currency, {})

    def _entity_rows(
        self,
        kind: str,
        start: dt.date,
        end: dt.date,
        advertisable_eids: list[str],
        currency: str,
        filters: dict[str, set[str]],
    ) -> list[dict]:
        # totals[entity eid] = [impressions, clicks, native cents, prospects]
        rows: list[dict] = []
        for adv_eid in advertisable_eids:
            advertisable = self._advertisable(adv_eid)
            native = advertisable["_currency"]
            tree = self._tree(adv_eid)
            group_campaign = {g["eid"]: g["campaign"] for g in tree["adgroups"]}
            totals: dict[str, list[int]] = {}
            for ad in tree["ads"]:
                groups = {group["id"] for group in ad["adgroups"]}
                campaign = group_campaign[ad["adgroups"][0]["id"]]  # an ad's adgroups are of one campaign
                if filters.get("ads") and ad["eid"] not in filters["ads"]:
                    continue
                if filters.get("adgroups") and not groups & filters["adgroups"]:
                    continue
                if filters.get("campaigns") and campaign not in filters["campaigns"]:
                    continue
                key = {"ad": ad["eid"], "campaign": campaign, "advertisable": adv_eid}[kind]
                day = start
                while day <= end:
                    facts = self._ad_day_cents(adv_eid, ad["eid"], day)
                    if facts is not None:
                        acc = totals.setdefault(key, [0, 0, 0, 0])
                        for i, value in enumerate(facts):
                            acc[i] += value
                    day += dt.timedelta(days=1)
            if kind == "advertisable":
                totals.setdefault(adv_eid, [0, 0, 0, 0])
            by_eid = {
                "ad": {a["eid"]: a for a in tree["ads"]},
                "campaign": {c["eid"]: c for c in tree["campaigns"]},
                "advertisable": {adv_eid: advertisable},
            }[kind]
            order = list(by_eid)
            for eid in sorted(totals, key=order.index):
                impressions, clicks, native_cents, prospects = totals[eid]
                cents = convert_cents(native_cents, native, currency)
                cost = Decimal(cents) / 100
                entity = by_eid[eid]
                row: dict[str, t.Any] = {}
                if kind == "ad":
                    row = {"ad": entity["name"], "eid": eid, "status": entity["status"],
                           "ad_size": entity["ad_format_name"], "created_date": entity["created_date"][:10]}
                elif kind == "campaign":
                    row = {"campaign": entity["name"], "eid": eid, "advertiser": advertisable["name"],
                           "type": "Retargeting" if entity["is_retargeting"] else "Prospecting",
                           "status": entity["status"], "created_date": entity["created_date"][:10],
                           "start_date": entity["start_date"][:10],
                           "end_date": entity["end_date"][:10] if entity["end_date"] else None,
                           "budget": entity["budget"]}
                else:
                    row = {"advertisable": entity["name"], "eid": eid, "status": entity["status"],
                           "created_date": entity["created_date"][:10]}
                row.update(
                    {
                        "cpc": _ratio(cost, clicks, "0.01"),
                        "ctr": _ratio(Decimal(clicks), impressions, "0.0001"),
                        "cpm": _ratio(cost * 1000, impressions, "0.01"),
                        "cost": _money(cents),
                        "impressions": impressions,
                        "clicks": clicks,
                        "prospects": prospects,
                    }
                )
                rows.append(row)
        return rows

    # ------------------------------------------------------------------ auth and quota

    def _authorize(self, request: Request) -> None:
        apikey = request.param("apikey")
        pat = request.auth_credentials("Token")
        if pat is not None:
            if not apikey:
                raise HTTPError(401, {"errors": ["The apikey query parameter is required with a personal access token"]})
            if apikey != self.client_id or pat != self.personal_access_token:
                raise HTTPError(401, {"errors": ["Invalid personal access token or apikey"]})
        else:
            bearer = request.bearer_token()
            if bearer is None:
                raise HTTPError(401, {"errors": ["Authentication credentials were not provided"]})
            if apikey is not None and apikey != self.client_id:
                raise HTTPError(401, {"errors": ["Invalid apikey"]})
            state = self.tokens.state(bearer)
            if state == "expired":
                raise HTTPError(401, {"errors": ["Access token expired"]})
            if state != "valid":
                raise HTTPError(401, {"errors": ["Invalid access token"]})
        self._count_quota()

    def _count_quota(self) -> None:
        today = dt.datetime.now(dt.UTC).date()
        with self._quota_lock:
            used = self.quota_used.get(today, 0)
            if self.quota_per_day is not None and used >= self.quota_per_day:
                if self.quota_retry_after is not None:
                    wait = self.quota_retry_after
                else:
                    midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
                    wait = int((midnight - dt.datetime.now(dt.UTC)).total_seconds()) + 1
                raise HTTPError(
                    429,
                    {"errors": [f"Request quota exceeded: {self.quota_per_day} requests per day"]},
                    {"Retry-After": f"{wait:g}"},
                )
            self.quota_used[today] = used + 1

    def not_found(self, request: Request) -> Response:
        return json_response({"errors": [f"No such endpoint: {request.method} {request.path}"]}, 404)

    # ------------------------------------------------------------------ OAuth

    @route("POST", "/auth/token")
    def token(self, request: Request) -> Response:
        form = request.form()
        basic = request.auth_credentials("Basic")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if basic:
            client_id, _, client_secret = base64.b64decode(basic).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type", "error_description": "Only refresh_token is supported"}, 400)
        old = form.get("refresh_token", "")
        with self.tokens._lock:
            usable = self.tokens.refresh.get(old)
            if usable:
                self.tokens.refresh[old] = False
        if usable is None:
            return json_response({"error": "invalid_grant", "error_description": "Unknown refresh token"}, 400)
        if not usable:
            return json_response({"error": "invalid_grant", "error_description": "Refresh token already used"}, 400)
        access = self.tokens.issue("adroll_at")
        refresh = self.tokens.issue("adroll_rt")
        with self.tokens._lock:
            self.tokens.refresh[refresh] = True
        return json_response(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": int(self.tokens.ttl_seconds) if self.tokens.ttl_seconds >= 1 else 1,
                "refresh_token": refresh,
                "scope": "all",
            }
        )

    # ------------------------------------------------------------------ organization

    def _check_organization(self, request: Request) -> None:
        org = request.param("organization")
        if org is not None and org != self.organization["eid"]:
            raise HTTPError(403, {"errors": [f"You do not have access to organization '{org}'"]})

    @route("GET", API + "/organization/get")
    def organization_get(self, request: Request) -> dict:
        self._authorize(request)
        self._check_organization(request)
        return {"results": dict(self.organization)}

    @route("GET", API + "/organization/get_advertisables")
    def organization_get_advertisables(self, request: Request) -> dict:
        self._authorize(request)
        self._check_organization(request)
        return {"results": [self._public(a) for a in self.advertisables]}

    # ------------------------------------------------------------------ advertisable

    def _advertisable_param(self, request: Request) -> str:
        eid = request.param("advertisable")
        if not eid:
            raise HTTPError(400, {"errors": ["Missing required parameter 'advertisable'"]})
        self._advertisable(eid)
        if eid in self.forbidden_advertisables:
            raise HTTPError(403, {"errors": [f"You do not have access to advertisable '{eid}'"]})
        return eid

    @staticmethod
    def _flag(request: Request, name: str, default: bool) -> bool:
        value = request.param(name)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise HTTPError(400, {"errors": [f"Invalid boolean for '{name}': '{value}'"]})

    @route("GET", API + "/advertisable/get")
    def advertisable_get(self, request: Request) -> dict:
        self._authorize(request)
        return {"results": self._public(self._advertisable(self._advertisable_param(request)))}

    @route("GET", API + r"/advertisable/get_campaigns(_fast)?")
    def advertisable_get_campaigns(self, request: Request) -> dict:
        self._authorize(request)
        eid = self._advertisable_param(request)
        rows = self.campaigns(eid, self._flag(request, "is_active", True))
        statuses = set(request.param_list("statuses"))
        return {"results": self._nested_fault(request, [c for c in rows if not statuses or c["status"] in statuses], "adgroups")}

    @route("GET", API + r"/advertisable/get_adgroups(_fast)?")
    def advertisable_get_adgroups(self, request: Request) -> dict:
        self._authorize(request)
        eid = self._advertisable_param(request)
        statuses = set(request.param_list("statuses")) or {"approved", "admin_review", "paused", "admin_paused"}
        rows = self.adgroups(eid, self._flag(request, "camp_active", True))
        return {"results": self._nested_fault(request, [g for g in rows if g["status"] in statuses], "ads")}

    @route("GET", API + r"/advertisable/get_ads(_fast)?")
    def advertisable_get_ads(self, request: Request) -> dict:
        self._authorize(request)
        eid = self._advertisable_param(request)
        return {"results": self._nested_fault(request, self.ads(eid, self._flag(request, "is_active", True)), "adgroups")}

    def _nested_fault(self, request: Request, rows: list[dict], name: str) -> list[dict]:
        """The ``nested_element`` fault: the first element of the first entity's ``name`` list (or of
        ``params["property"]``) replaced by ``params["element"]``."""
        fault = self.faults.take({"nested_element"}, request.method, request.path)
        if fault is not None and rows:
            name = str(fault.params.get("property", name))
            if rows[0][name]:
                rows[0][name][0] = fault.params.get("element", 42)
        return rows

    @route("GET", API + "/advertisable/get_segments")
    def advertisable_get_segments(self, request: Request) -> dict:
        self._authorize(request)
        rows = self.segments(self._advertisable_param(request))
        per_page = request.param("per_page")
        if per_page is None:
            return {"results": rows, "pagination": {"count": len(rows), "pages": 1}}
        size, page = max(1, int(per_page)), int(request.param("page", "0") or 0)
        pages = max(1, -(-len(rows) // size))
        return {"results": rows[page * size : (page + 1) * size], "pagination": {"count": len(rows), "pages": pages}}

    # ------------------------------------------------------------------ reports

    @route("GET", API + r"/report/(?P<kind>ad|campaign|advertisable)")
    def report(self, request: Request, kind: str) -> dict:
        self._authorize(request)
        data_format = request.param("data_format")
        if data_format not in ("entity", "summary", "date"):
            raise HTTPError(400, {"errors": ["data_format is required: one of 'summary', 'date', 'entity'"]})
        currency = request.param("currency", "USD") or "USD"
        if currency not in USD_RATES:
            raise HTTPError(400, {"errors": [f"Unsupported currency '{currency}'"]})
        past_days = request.param("past_days")
        if past_days is not None:
            end = dt.datetime.now(dt.UTC).date()
            start = end - dt.timedelta(days=int(past_days) - 1)
        else:
            start_raw, end_raw = request.param("start_date"), request.param("end_date")
            if not start_raw or not end_raw:
                raise HTTPError(400, {"errors": ["start_date and end_date are required unless past_days is given"]})
            start, end = parse_day(start_raw, "start_date"), parse_day(end_raw, "end_date")
            if end < start:
                raise HTTPError(400, {"errors": [f"end_date {end_raw} is before start_date {start_raw}"]})
        advertisables = request.param_list("advertisables")
        if kind == "advertisable" and not advertisables:
            raise HTTPError(400, {"errors": ["At least one advertisable EID is required"]})
        for eid in advertisables:
            if eid not in self.advertisable_eids():
                raise HTTPError(400, {"errors": [f"Unknown advertisable EID '{eid}'"]})
        refused = [eid for eid in advertisables or self.advertisable_eids() if eid in self.forbidden_advertisables]
        if refused:  # a report is refused whole when it names an advertisable the credentials may not read
            raise HTTPError(403, {"errors": [f"You do not have access to advertisable '{refused[0]}'"]})
        filters = {name: set(request.param_list(name)) for name in ("campaigns", "adgroups", "ads")}
        eids = advertisables or self.advertisable_eids()
        if data_format == "entity":
            rows = self._entity_rows(kind, start, end, eids, currency, filters)
            broken = self.faults.take({"wrong_type", "outside_window"}, request.method, request.path)
            if broken is not None and broken.kind == "wrong_type" and rows:
                rows[0] = {**rows[0], "cost": "n/a"}
            elif broken is not None and broken.kind == "outside_window":
                # Entity rows carry no date: the breach AdRoll can show is a row of an advertisable not asked for.
                stranger = next((e for e in self.advertisable_eids() if e not in eids), None)
                if stranger is not None:
                    rows += self._entity_rows(kind, start, end, [stranger], currency, filters)[:1]
            return {"results": rows}
        if data_format == "summary":
            rows = self._entity_rows("advertisable", start, end, eids, currency, filters)
            return {"results": self._summed(rows)}
        out = []
        day = start
        while day <= end:
            rows = self._entity_rows("advertisable", day, day, eids, currency, filters)
            out.append({"date": day.strftime("%m-%d-%Y"), **self._summed(rows)})
            day += dt.timedelta(days=1)
        return {"results": out}

    @staticmethod
    def _summed(rows: list[dict]) -> dict:
        cents = sum(round(Decimal(str(r["cost"])) * 100) for r in rows)
        return {
            "impressions": sum(r["impressions"] for r in rows),
            "clicks": sum(r["clicks"] for r in rows),
            "prospects": sum(r["prospects"] for r in rows),
            "cost": _money(int(cents)),
        }
