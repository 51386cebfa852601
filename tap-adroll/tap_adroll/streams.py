"""The AdRoll streams: the organization, its advertisables and their entities, and three daily reports."""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_adroll import schemas
from tap_adroll.client import AdRollStream
from tap_adroll.windows import DayPaginator, api_date, day_start, plan_days

#: Report metrics: numbers (counts as integers, money and rates as decimals) or null.
METRICS = ("impressions", "clicks", "prospects", "cost", "cpc", "cpm", "ctr")
# A metric's value: a number (a fraction decodes as Decimal), or null. Not bool, whose type is not one of these.
_NUMBER_TYPES = frozenset({int, Decimal, type(None)})

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


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

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        org = self.config.get("organization_eid")
        return {"organization": org} if org else {}

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield self._tap.organization  # type: ignore[attr-defined]  # fetched once per run


class AdvertisablesStream(AdRollStream):
    """``organization/get_advertisables``: the advertisables the tap extracts (``advertisable_eids``, or all)."""

    name = "advertisables"
    path = "/organization/get_advertisables"
    primary_keys = ("eid",)
    schema = schemas.ADVERTISABLE

    def fetch(self) -> list[dict]:
        """Every advertisable of the organization, from the API (the tap calls this once per run)."""
        return list(self.request_records(None))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        org = self.config.get("organization_eid")
        return {"organization": org} if org else {}

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self._tap.advertisables  # type: ignore[attr-defined]  # fetched once per run

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

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        seen: set[str] = set()
        for variant in self.variants:
            for record in self.request_records({**(context or {}), "_variant": variant}):
                if record["eid"] not in seen:  # one record per entity, whatever the calls overlap
                    seen.add(record["eid"])
                    yield record

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        assert context is not None
        return {"advertisable": context["advertisable_eid"], **context.get("_variant", {})}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        assert context is not None
        return {**row, "advertisable_eid": context["advertisable_eid"]}


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
    # Rows are flat and _check_rows has checked their metrics: the SDK's per-value conformance pass would
    # only cost time (it was the largest CPU cost of a report sync).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    kind: t.ClassVar[str]

    def __init__(self, tap: t.Any) -> None:
        super().__init__(tap)
        self._days: list[dt.date] = []
        self._paginator: DayPaginator | None = None
        self._advertisable_eids: list[str] = []
        self.started = False

    @property
    def partitions(self) -> list[dict]:
        partitions = [{"organization_eid": self._tap.organization_eid}]  # type: ignore[attr-defined]
        self.started = True  # from here on, a failure must leave this stream's state clean
        return partitions

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        bookmark = self.get_starting_replication_key_value(context) if self._has_bookmark(context) else None
        lookback = int(self.config.get("lookback_window_days", 3))
        self._days = plan_days(
            start_date=self.config["start_date"],
            end_date=self.config.get("end_date"),
            bookmark=bookmark,
            lookback_days=lookback,
        )
        self._advertisable_eids = self._tap.advertisable_eids  # type: ignore[attr-defined]
        span = f"{self._days[0]}..{self._days[-1] + dt.timedelta(days=1)}" if self._days else "none"
        self.logger.info(
            "%s: organization %s, report days %s (end exclusive, UTC), %d window(s) of one day for %d advertisable(s)%s",
            self.name, context["organization_eid"], span, len(self._days), len(self._advertisable_eids),
            f", re-reading from bookmark {str(bookmark)[:10]} minus {lookback} day(s)" if bookmark else "",
        )
        if not self._days or not self._advertisable_eids:
            return
        yield from super().get_records(context)

    def _has_bookmark(self, context: Context) -> bool:
        return bool(self.get_context_state(context).get("replication_key_value"))

    def get_new_paginator(self) -> DayPaginator:
        self._paginator = DayPaginator(self._days)
        return self._paginator

    def get_url_params(self, context: Context | None, next_page_token: dt.date | None) -> dict[str, t.Any]:
        assert next_page_token is not None
        day = api_date(next_page_token)
        return {
            "data_format": "entity",
            "start_date": day,
            "end_date": day,
            "currency": self.config.get("currency") or "USD",
            "advertisables": ",".join(self._advertisable_eids),
        }

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        assert self._paginator is not None
        rows = self.answer(response)["results"]
        if not isinstance(rows, list):
            raise FatalAPIError(self._describe(response, f"'results' is not a list: {str(rows)[:120]!r}"))
        self._check_rows(rows, response)  # the whole day, before any of it is emitted
        stamp = {"date": day_start(self._paginator.current_value), "currency": self.config.get("currency") or "USD"}
        for row in rows:
            row.update(stamp)
            yield row
        # Resumed here, the SDK has emitted every row of the day and moved the bookmark to it: say so now,
        # so that even a run killed outright (or a loader that stops) keeps every complete day.
        self._write_state_message()


    def _check_rows(self, rows: list, response: requests.Response) -> None:
        """Fail on an answer that breaks the documented shape rather than load it: rows are objects with an
        ``eid``, metrics are numbers (or null), and advertisable rows are the advertisables asked for."""
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("eid"), str):
                raise FatalAPIError(self._describe(response, f"a row has no 'eid': {str(row)[:120]!r}"))
            for metric in METRICS:
                if type(row.get(metric)) not in _NUMBER_TYPES:
                    raise FatalAPIError(self._describe(response, f"row {row['eid']}: metric {metric!r} is not a number: {row[metric]!r}"))
            if self.kind == "advertisable" and row["eid"] not in self._advertisable_eids:
                detail = f"row {row['eid']} is outside the window: not among the advertisables asked for"
                raise FatalAPIError(self._describe(response, detail))


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
