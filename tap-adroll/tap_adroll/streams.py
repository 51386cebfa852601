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
from .inflight import InFlight, Job
from .isolation import SET_ASIDE, PartitionRefusedError, partition_answers
from .report_days import day_span, end_day, first_day, setting_day
from .windows import Window, api_date, day_start, plan_windows

#: Report metrics: numbers (counts as integers, money and rates as decimals) or null.
METRICS = ("impressions", "clicks", "prospects", "cost", "cpc", "cpm", "ctr")
# A metric's value: a number (a fraction decodes as Decimal), or null. Not bool, whose type is not one of these.
_NUMBER_TYPES = frozenset({int, Decimal, type(None)})

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from .lookups import AdRollLookups


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
        yield self.lookups.organization  # fetched once per run


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
        yield from self.lookups.advertisables  # fetched once per run

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"advertisable_eid": record["eid"]}


class AdvertisableChildStream(AdRollStream):
    """An entity list read per advertisable; each record carries ``advertisable_eid``.

    Every advertisable's calls are laid out as one queue, sent up to ``max_concurrent_requests`` at a time
    (inflight.py) and answered in advertisable order: the SDK syncs the advertisables one after another, and
    their answers are already there. An advertisable the API refuses (403, 404) is set aside (isolation.py).
    """

    parent_stream_type = AdvertisablesStream
    primary_keys = ("eid",)
    # Full-table streams keep no bookmark: one (empty) stream state, not one per advertisable.
    state_partitioning_keys: t.ClassVar[list[str]] = []
    #: Calls made per advertisable: extra query parameters of each (active and inactive, where the API filters).
    variants: t.ClassVar[tuple[dict[str, str], ...]] = ({},)

    def __init__(self, tap: Tap, lookups: AdRollLookups) -> None:
        super().__init__(tap, lookups)
        self._flight: InFlight[None] | None = None

    def _jobs(self) -> Iterator[Job[None]]:
        for eid in (advertisable["eid"] for advertisable in self.lookups.advertisables):
            yield from (Job(eid, {"advertisable_eid": eid, "_variant": variant}, None) for variant in self.variants)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        eid = context["advertisable_eid"]
        if self._flight is None:
            self._flight = self.in_flight(self._jobs())
        flight = self._flight
        seen: set[str] = set()
        with flight.stopping_on_failure():
            for _, response in partition_answers(flight, eid, lambda refusal: self.set_aside(eid, refusal)):
                for record in self.parse_response(response):
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
    """A ``report/<kind>`` entity report: one request per day for every advertisable that needs the day.

    One bookmark per advertisable (partition ``{"advertisable_eid": ...}``): a day is asked for the advertisables
    whose own bookmark minus the lookback (or ``start_date``, for one added since the last run) reaches it, so
    an advertisable added later gets its whole history while the others re-read only their lookback, in the
    same one request a day. The report rows do not say their advertisable, so the SDK syncs the stream as one
    context, days in order; when a day's rows are all emitted, every advertisable it was asked for is bookmarked
    at it (checkpoints.py). Lookback re-reads go back before the bookmark, hence no sort check.
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

    def __init__(self, tap: Tap, lookups: AdRollLookups) -> None:
        super().__init__(tap, lookups)
        self.checkpoints = Checkpoints(self, tap)

    @property
    @override
    def partitions(self) -> list[dict] | None:
        return None  # one context: each request covers several advertisables (bookmarked one by one, see above)

    def bookmarks(self, eids: list[str]) -> dict[str, str | None]:
        """Each advertisable's own bookmark. State written before bookmarks were kept per advertisable has one
        per organization: it stands for every advertisable of the first run that reads it."""
        partitions = self.stream_state.get("partitions", [])
        own = {
            p["context"]["advertisable_eid"]: p["replication_key_value"]
            for p in partitions
            if "advertisable_eid" in p.get("context", {}) and p.get("replication_key_value")
        }
        legacy = [p.get("replication_key_value") for p in partitions if "organization_eid" in p.get("context", {})]
        organization = legacy[0] if legacy and not own else None
        return {eid: own.get(eid, organization) for eid in eids}

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        # Advertisables another stream set aside (the API refused their listings) are left out, bookmarks kept.
        eids = [eid for eid in self.lookups.advertisable_eids if not SET_ASIDE.is_refused(f"advertisable {eid}")]
        start = setting_day(self.config["start_date"])
        end = end_day(self.config.get("end_date"), dt.UTC)  # AdRoll report days are UTC days
        lookback = self.config["lookback_window_days"]
        bookmarks = self.bookmarks(eids)
        firsts = {eid: first_day(start, bookmarks[eid], lookback) for eid in eids}
        windows = plan_windows(firsts, end)
        self.logger.info(
            "%s: organization %s, report days %s (UTC), %d window(s) of one day for %d advertisable(s)",
            self.name,
            self.lookups.organization_eid,
            day_span(min(firsts.values(), default=end), end),
            len(windows),
            len(eids),
        )
        for eid in eids:
            self.logger.info(
                "%s: advertisable %s, report days %s%s",
                self.name,
                eid,
                day_span(firsts[eid], end),
                f", re-reading from bookmark {str(bookmarks[eid])[:10]} minus {lookback} day(s)" if bookmarks[eid] else ", from start_date",
            )
        self.checkpoints.start_partition(f"organization {self.lookups.organization_eid}", len(windows))
        refused: set[str] = set()
        flight = self.in_flight(self._jobs(windows, refused))
        with flight.stopping_on_failure():
            while (job := flight.next_job()) is not None:
                try:
                    _, response = flight.take()
                except PartitionRefusedError as refusal:
                    flight.put_first(self._after_refusal(job.token, refusal, refused))
                    continue
                yield from self._day_rows(job.token, response)

    @staticmethod
    def _jobs(windows: list[Window], refused: set[str]) -> Iterator[Job[Window]]:
        """The days to ask, without the advertisables refused so far (the queue plans each as it reaches it)."""
        for window in windows:
            asked = tuple(eid for eid in window.advertisables if eid not in refused)
            if asked:
                yield Job("organization", None, Window(window.start, asked))

    def _after_refusal(self, window: Window, refusal: PartitionRefusedError, refused: set[str]) -> list[Job[Window]]:
        """A day refused (403, 404): asked again in halves of its advertisables to find the one refused, which is
        set aside (isolation.py); the others' rows and bookmarks are unaffected."""
        unrefused = tuple(eid for eid in window.advertisables if eid not in refused)
        if unrefused != window.advertisables:  # sent before an advertisable of it was found refused: without it
            return [Job("organization", None, Window(window.start, unrefused))] if unrefused else []
        if len(window.advertisables) == 1:
            (eid,) = window.advertisables
            refused.add(eid)
            self.set_aside(eid, refusal)
            return []
        middle = len(window.advertisables) // 2
        halves = (window.advertisables[:middle], window.advertisables[middle:])
        self.logger.warning(
            "%s: day %s refused for %d advertisables, asking again in halves to find which: %s",
            self.name,
            window,
            len(window.advertisables),
            refusal,
        )
        return [Job("organization", None, Window(window.start, half)) for half in halves]

    @override
    def get_url_params(self, context: Context | None, next_page_token: Window | None) -> dict[str, t.Any]:
        assert next_page_token is not None
        day = api_date(next_page_token.start)
        return {
            "data_format": "entity",
            "start_date": day,
            "end_date": day,
            "currency": self.config["currency"],
            "advertisables": ",".join(next_page_token.advertisables),
        }

    def _day_rows(self, window: Window, response: requests.Response) -> t.Iterable[dict]:
        """A day's rows, checked whole before any is emitted, stamped; then every advertisable asked is bookmarked."""
        rows = self.answer(response)
        if not isinstance(rows, list):
            raise FatalAPIError(f"{self.describe_request(response.request)} failed: 'results' is not a list: {str(rows)[:120]!r}")
        self._check_rows(rows, response, window)
        stamp = {"date": day_start(window.start), "currency": self.config["currency"], "organization_eid": self.lookups.organization_eid}
        for row in rows:
            row.update(stamp)
            yield row
        covered = [{"advertisable_eid": eid} for eid in window.advertisables]
        self.checkpoints.window_done(None, str(window), len(rows), day_start(window.start), covered)

    @override
    def log_sync_costs(self) -> None:
        if self.checkpoints.totals.windows:
            self.logger.info("%s", self.checkpoints.summary(self.requests_sent, self.retries))
        super().log_sync_costs()

    def _check_rows(self, rows: list, response: requests.Response, window: Window) -> None:
        """Fail on an answer that breaks the documented shape rather than load it: rows are objects with an
        ``eid``, metrics are numbers (or null), and advertisable rows are the advertisables asked for."""
        where = self.describe_request(response.request)
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("eid"), str):
                raise FatalAPIError(f"{where} failed: a row has no 'eid': {str(row)[:120]!r}")
            for metric in METRICS:
                if type(row.get(metric)) not in _NUMBER_TYPES:
                    raise FatalAPIError(f"{where} failed: row {row['eid']}: metric {metric!r} is not a number: {row[metric]!r}")
            if self.kind == "advertisable" and row["eid"] not in window.advertisables:
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
