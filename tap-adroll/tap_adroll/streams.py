"""The AdRoll streams: the organization, its advertisables and their entities, and three daily reports."""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from . import schemas
from .checkpoints import Checkpoints
from .client import AdRollStream
from .entities import normalise_nested_lists
from .report_days import day_span, end_day, first_day, setting_day
from .windows import Window, WindowPaginator, api_date, day_start, plan_windows

#: Report metrics: numbers (counts as integers, money and rates as decimals) or null.
METRICS = ("impressions", "clicks", "prospects", "cost", "cpc", "cpm", "ctr")
# A metric's value: a number (a fraction decodes as Decimal), or null. Not bool, whose type is not one of these.
_NUMBER_TYPES = frozenset({int, Decimal, type(None)})

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from .tap import TapAdRoll


class OrganizationStream(AdRollStream):
    """``organization/get``: the organization of ``organization_eid``, or of the credentials."""

    name = "organization"
    path = "/organization/get"
    primary_keys = ("eid",)
    schema = schemas.ORGANIZATION

    def fetch(self) -> dict:
        """The organization, from the API (the tap calls this once per run)."""
        records = list(self.request_records(None))
        return records[0]

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        org = self.config.get("organization_eid")
        return {"organization": org} if org else {}

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield self.tap.organization  # fetched once per run


class AdvertisablesStream(AdRollStream):
    """``organization/get_advertisables``: the advertisables the tap extracts (``advertisable_eids``, or all)."""

    name = "advertisables"
    path = "/organization/get_advertisables"
    primary_keys = ("eid",)
    schema = schemas.ADVERTISABLE

    def fetch(self) -> list[dict]:
        """Every advertisable of the organization, from the API (the tap calls this once per run)."""
        return list(self.request_records(None))

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        org = self.config.get("organization_eid")
        return {"organization": org} if org else {}

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.tap.advertisables  # fetched once per run

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"advertisable_eid": record["eid"]}


class AdvertisableChildStream(AdRollStream):
    """An entity list read per advertisable; each record carries ``advertisable_eid``."""

    parent_stream_type = AdvertisablesStream
    primary_keys = ("eid",)
    # Full-table streams keep no bookmark: one (empty) stream state, not one per advertisable.
    state_partitioning_keys: t.ClassVar[list[str]] = []
    #: Calls made per advertisable: extra query parameters of each (active and inactive, where the API filters).
    variants: t.ClassVar[tuple[dict[str, str], ...]] = ({},)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        seen: set[str] = set()
        for variant in self.variants:
            for record in self.request_records({**(context or {}), "_variant": variant}):
                if record["eid"] not in seen:  # one record per entity, whatever the calls overlap
                    seen.add(record["eid"])
                    yield record

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        assert context is not None
        return {"advertisable": context["advertisable_eid"], **context.get("_variant", {})}

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        assert context is not None
        # Nested entity lists in the one shape the schema declares, whichever the API sent (entities.py).
        return normalise_nested_lists(self.name, {**row, "advertisable_eid": context["advertisable_eid"]})


class CampaignsStream(AdvertisableChildStream):
    """``advertisable/get_campaigns``: active campaigns by default, so it is called with ``is_active`` true and false."""

    name = "campaigns"
    path = "/advertisable/get_campaigns"
    schema = schemas.CAMPAIGN
    variants = ({"is_active": "true"}, {"is_active": "false"})


class AdGroupsStream(AdvertisableChildStream):
    """``advertisable/get_adgroups``: adgroups of active campaigns by default, so ``camp_active`` true and false."""

    name = "ad_groups"
    path = "/advertisable/get_adgroups"
    schema = schemas.AD_GROUP
    variants = ({"camp_active": "true"}, {"camp_active": "false"})


class AdsStream(AdvertisableChildStream):
    """``advertisable/get_ads``: active ads by default, so it is called with ``is_active`` true and false."""

    name = "ads"
    path = "/advertisable/get_ads"
    schema = schemas.AD
    variants = ({"is_active": "true"}, {"is_active": "false"})


class SegmentsStream(AdvertisableChildStream):
    """``advertisable/get_segments``: the audiences of the advertisable's active pixel (unpaginated: no per_page)."""

    name = "segments"
    path = "/advertisable/get_segments"
    schema = schemas.SEGMENT


class ReportStream(AdRollStream):
    """A ``report/<kind>`` entity report: one request per day for every extracted advertisable at once.

    One partition (and one bookmark) per organization. Days are requested in order and a day's rows are
    emitted together, so the bookmark advances day by day and an interrupted run resumes at the last
    complete day; lookback re-reads go back before the bookmark, hence no sort check.
    """

    primary_keys = ("eid", "date")
    replication_key = "date"
    is_sorted = True
    check_sorted = False
    # Checkpoints are per window (checkpoints.py); this is only the SDK's fallback inside a very large window.
    STATE_MSG_FREQUENCY = 10_000
    # Rows are flat and _check_rows has checked their metrics: the SDK's per-value conformance pass would
    # only cost time (it was the largest CPU cost of a report sync).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    kind: t.ClassVar[str]

    def __init__(self, tap: TapAdRoll) -> None:
        super().__init__(tap)
        self.checkpoints = Checkpoints(self, tap)
        self._windows: list[Window] = []
        self._paginator: WindowPaginator | None = None
        self._advertisable_eids: list[str] = []
        self._context: Context | None = None

    @property
    @override
    def partitions(self) -> list[dict]:
        return [{"organization_eid": self.tap.organization_eid}]

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        start = setting_day(self.config["start_date"])
        end = end_day(self.config.get("end_date"), dt.UTC)  # AdRoll report days are UTC days
        lookback = self.config["lookback_window_days"]
        first = first_day(start, self.get_starting_replication_key_value(context), lookback)
        self._windows = plan_windows(first, end)
        self._advertisable_eids = self.tap.advertisable_eids
        self._context = context
        bookmark = self.get_context_state(context).get("replication_key_value")
        self.logger.info(
            "%s: organization %s, report days %s (UTC), %d window(s) of one day for %d advertisable(s)%s",
            self.name,
            context["organization_eid"],
            day_span(first, end),
            len(self._windows),
            len(self._advertisable_eids),
            f", re-reading from bookmark {str(bookmark)[:10]} minus {lookback} day(s)" if bookmark else "",
        )
        self.checkpoints.start_partition(f"organization {context['organization_eid']}", len(self._windows))
        if not self._windows or not self._advertisable_eids:
            return
        yield from super().get_records(context)

    @override
    def get_new_paginator(self) -> WindowPaginator:
        self._paginator = WindowPaginator(self._windows)
        return self._paginator

    @override
    def get_url_params(self, context: Context | None, next_page_token: Window | None) -> dict[str, t.Any]:
        assert next_page_token is not None
        day = api_date(next_page_token.start)
        return {
            "data_format": "entity",
            "start_date": day,
            "end_date": day,
            "currency": self.config["currency"],
            "advertisables": ",".join(self._advertisable_eids),
        }

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        assert self._paginator is not None
        window = self._paginator.current_value
        rows = self.answer(response)
        if not isinstance(rows, list):
            raise FatalAPIError(f"{self.describe_request(response.request)} failed: 'results' is not a list: {str(rows)[:120]!r}")
        self._check_rows(rows, response)  # the whole day, before any of it is emitted
        stamp = {"date": day_start(window.start), "currency": self.config["currency"]}
        for row in rows:
            row.update(stamp)
            yield row
        self.checkpoints.window_done(self._context, str(window), len(rows), day_start(window.start))

    @override
    def log_sync_costs(self) -> None:
        if self.checkpoints.totals.windows:
            self.logger.info("%s", self.checkpoints.summary(self.requests_sent, self.retries))
        super().log_sync_costs()

    def _check_rows(self, rows: list, response: requests.Response) -> None:
        """Fail on an answer that breaks the documented shape rather than load it: rows are objects with an
        ``eid``, metrics are numbers (or null), and advertisable rows are the advertisables asked for."""
        where = self.describe_request(response.request)
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("eid"), str):
                raise FatalAPIError(f"{where} failed: a row has no 'eid': {str(row)[:120]!r}")
            for metric in METRICS:
                if type(row.get(metric)) not in _NUMBER_TYPES:
                    raise FatalAPIError(f"{where} failed: row {row['eid']}: metric {metric!r} is not a number: {row[metric]!r}")
            if self.kind == "advertisable" and row["eid"] not in self._advertisable_eids:
                raise FatalAPIError(f"{where} failed: row {row['eid']} is outside the window: not among the advertisables asked for")


class AdReportStream(ReportStream):
    name = "ad_report"
    path = "/report/ad"
    kind = "ad"
    schema = schemas.AD_REPORT


class CampaignReportStream(ReportStream):
    name = "campaign_report"
    path = "/report/campaign"
    kind = "campaign"
    schema = schemas.CAMPAIGN_REPORT


class AdvertisableReportStream(ReportStream):
    name = "advertisable_report"
    path = "/report/advertisable"
    kind = "advertisable"
    schema = schemas.ADVERTISABLE_REPORT


STREAM_TYPES = (
    OrganizationStream,
    AdvertisablesStream,
    CampaignsStream,
    AdGroupsStream,
    AdsStream,
    SegmentsStream,
    AdReportStream,
    CampaignReportStream,
    AdvertisableReportStream,
)
