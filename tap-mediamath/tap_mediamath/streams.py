"""The MediaMath report streams: the built-in ``performance`` stream and custom ``reports``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import typing as t
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from . import schemas
from .checkpoints import Checkpoints
from .client import AnswerCount, BrokenAnswerError, MediaMathStream, check_count
from .inflight import InFlight, Job
from .report_days import day_span, end_day, first_day, setting_day
from .retries import MAX_TRIES, backoff_seconds
from .windows import (
    PERIOD_OF_ROLLUP,
    UTC,
    Page,
    Window,
    first_period_day,
    last_period_start,
    period_start,
    plan_windows,
    rfc3339,
)

if t.TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from .lookups import MediaMathLookups

ROLLUPS = ("all", "by_hour", "by_day", "by_week", "by_month")
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "=~", "and", "or", "isNull", "isNotNull")

# A metric's value: a number (a fraction decodes as Decimal), or null. Not bool, whose type is not one of these.
_NUMBER_TYPES = frozenset({int, Decimal, type(None)})
_sleep = time.sleep  # the wait before asking again for a window whose connection broke (tests replace it)

PERFORMANCE_FIELDS = (
    "organization_id",
    "organization_name",
    "agency_id",
    "agency_name",
    "advertiser_id",
    "advertiser_name",
    "campaign_id",
    "campaign_name",
    "strategy_id",
    "strategy_name",
    "campaign_currency_code",
    "impressions",
    "clicks",
    "post_click_conversions",
    "post_view_conversions",
    "total_conversions",
    "total_spend",
    "total_spend_usd",
    "total_revenue",
    "total_revenue_usd",
)


@dataclasses.dataclass(frozen=True)
class ReportDefinition:
    """What a report stream asks for: the contract's report definition."""

    name: str
    dataset: str
    fields: tuple[str, ...]
    filters: tuple[dict, ...] = ()
    rollup: str = "by_day"
    time_zone: str | None = None
    key: tuple[str, ...] | None = None  # None: organization_id, agg_timestamp and every dimension field

    @classmethod
    def from_setting(cls, item: dict) -> ReportDefinition:
        return cls(
            name=item["name"],
            dataset=item["dataset"],
            fields=tuple(item["fields"]),
            filters=tuple(item.get("filters") or ()),
            rollup=item.get("rollup") or "by_day",
            time_zone=item.get("time_zone"),
        )

    @property
    def request_fields(self) -> list[str]:
        """The ``fields`` sent: as defined, plus ``organization_id`` (the partition) where the dataset has it."""
        fields = list(self.fields)
        if "organization_id" not in fields and "organization_id" in schemas.fields_of(self.dataset):
            fields.insert(0, "organization_id")
        return fields

    @property
    def primary_keys(self) -> list[str]:
        if self.key is not None:
            return list(self.key)
        dims = [f for f in self.fields if schemas.is_dimension(self.dataset, f) and f not in ("organization_id", "agg_timestamp")]
        return ["organization_id", *(["agg_timestamp"] if self.rollup != "all" else []), *dims]


PERFORMANCE = ReportDefinition(
    name="performance",
    dataset="performance",
    fields=PERFORMANCE_FIELDS,
    rollup="by_day",
    key=("organization_id", "agg_timestamp", "campaign_id", "strategy_id"),
)


def definition_errors(item: t.Any, index: int, taken: set[str]) -> list[str]:
    """What is wrong with one entry of ``reports`` (unknown dataset, fields, rollup, filters), one line each."""
    where = f"reports[{index}]"
    if not isinstance(item, dict):
        return [f"{where}: must be an object {{name, dataset, fields, filters, rollup, time_zone}}"]
    name = item.get("name")
    errors = []
    if not isinstance(name, str) or not name.replace("_", "a").isalnum() or name[:1].isdigit():
        errors.append(f"{where}.name: {name!r} must be letters, digits and underscores")
    elif name in taken:
        errors.append(f"{where}.name: {name!r} is already a stream name")
    else:
        taken.add(name)
        where = f"reports[{name}]"
    ds = item.get("dataset")
    if ds not in schemas.dataset_names():
        return [*errors, f"{where}.dataset: {ds!r} is not a dataset; valid datasets: {', '.join(schemas.dataset_names())}"]
    spec = schemas.dataset(ds)
    table = spec["fields"]
    fields = item.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        errors.append(
            f"{where}.fields: a non-empty list of field names of dataset {ds} is required; valid fields: {', '.join(sorted(table))}"
        )
    else:
        unknown = schemas.unknown_fields(ds, fields)
        if unknown:
            errors.append(
                f"{where}.fields: unknown field(s) {', '.join(unknown)} in dataset {ds}; valid fields: {', '.join(sorted(table))}"
            )
        if len(set(fields)) != len(fields):
            errors.append(f"{where}.fields: a field is listed twice")
    rollup = item.get("rollup") or "by_day"
    if rollup not in spec["rollups"]:
        errors.append(f"{where}.rollup: {rollup!r} is not offered by dataset {ds}; valid rollups: {', '.join(spec['rollups'])}")
    if item.get("time_zone") and not spec["time_zones"]:
        errors.append(f"{where}.time_zone: dataset {ds} does not support time_zone (datasets that do: {', '.join(time_zone_datasets())})")
    filters = item.get("filters") or []
    if not isinstance(filters, list):
        errors.append(f"{where}.filters: must be a list of filter objects")
    else:
        for n, entry in enumerate(filters):
            errors += filter_errors(entry, table, f"{where}.filters[{n}]")
    return errors


def filter_errors(entry: t.Any, table: dict, where: str) -> list[str]:
    """The API's filter objects, checked as far as the documentation states: ``{field, op, value, filters}``."""
    if not isinstance(entry, dict):
        return [f"{where}: a filter must be an object {{field, op, value}}"]
    op = entry.get("op", "=")
    if op not in OPERATORS:
        return [f"{where}.op: {op!r} is not an operator; valid operators: {' '.join(OPERATORS)}"]
    if op in ("and", "or"):
        nested = entry.get("filters")
        if not isinstance(nested, list) or not nested:
            return [f"{where}.filters: op {op!r} requires a list of filters"]
        return [error for n, sub in enumerate(nested) for error in filter_errors(sub, table, f"{where}.filters[{n}]")]
    field = entry.get("field")
    if field not in table and field != "organization_id":
        return [f"{where}.field: {field!r} is not a field of this dataset; valid fields: {', '.join(sorted(table))}"]
    if op not in ("isNull", "isNotNull") and "value" not in entry:
        return [f"{where}.value: a value is required for op {op!r}"]
    return []


def time_zone_datasets() -> list[str]:
    return [name for name in schemas.dataset_names() if schemas.dataset(name)["time_zones"]]


@dataclasses.dataclass(frozen=True)
class PartitionPlan:
    """One partition's report days and windows for this run."""

    label: str  # "organization 100001, advertiser 300001"
    first: dt.date
    end: dt.date
    windows: list[Window]
    bookmark: str | None


def _key(context: Context) -> tuple:
    """A partition's key in the queue of requests."""
    return (context["organization_id"], context.get("advertiser_id"))


class ReportStream(MediaMathStream):
    """A dataset queried per organization in date windows; incremental on ``agg_timestamp``.

    The state has one bookmark per organization partition. Rows are checked against the answer's
    announced count before a window is done.
    """

    # Queries ask for rows ordered by agg_timestamp and windows go forward, so the bookmark follows the rows
    # and an interrupted run resumes; it never passes a period before the period's rows are all emitted.
    # Lookback re-reads go back before the bookmark, hence no sort check.
    is_sorted = True
    check_sorted = False
    # Checkpoints are per window (checkpoints.py); this is only the SDK's fallback inside a very large window.
    STATE_MSG_FREQUENCY = 10_000
    # Rows are flat and parse_response has checked their metrics and period: the SDK's per-value
    # conformance pass would only cost time.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, lookups: MediaMathLookups, definition: ReportDefinition) -> None:
        schema = schemas.report_schema(definition.dataset, definition.request_fields, definition.rollup)
        super().__init__(tap, lookups, name=definition.name, schema=schema, path=f"/{definition.dataset}")
        self.definition = definition
        self.primary_keys = definition.primary_keys
        self.replication_key = "agg_timestamp" if definition.rollup != "all" else None
        self.checkpoints = Checkpoints(self, tap)
        self._plans: dict[Hashable, PartitionPlan] = {}
        self._flight: InFlight[Page] | None = None
        self._count = AnswerCount()
        self._window_rows = 0
        table = schemas.fields_of(definition.dataset)
        self._metrics = tuple(f for f in definition.request_fields if table[f]["kind"] == "metric")
        spec = schemas.dataset(definition.dataset)
        zone = definition.time_zone or tap.config.get("time_zone")
        self.time_zone = zone if zone and spec["time_zones"] else None
        self.window_zone: dt.tzinfo = UTC if self.time_zone in (None, "UTC", "campaign") else ZoneInfo(str(self.time_zone))

    @property
    @override
    def partitions(self) -> list[dict]:
        return self.lookups.partitions(has_advertiser_id="advertiser_id" in schemas.fields_of(self.definition.dataset))

    def bookmark(self, context: Context) -> str | None:
        """The partition's own bookmark. State written before advertisers had bookmarks of their own has one per
        organization: it stands for every advertiser of the first run that reads it."""
        if not self.replication_key:
            return None
        own = self.get_context_state(context).get("replication_key_value")
        if own or "advertiser_id" not in context:
            return own
        return self._organization_bookmarks.get(context["organization_id"])  # None: an advertiser added since

    @cached_property
    def _organization_bookmarks(self) -> dict[int, str]:
        """Organization bookmarks that stand for their advertisers: those of state where no advertiser has a
        bookmark yet (written before advertisers had their own), read as the run starts."""
        partitions = self.stream_state.get("partitions", [])
        if any("advertiser_id" in p.get("context", {}) and p.get("replication_key_value") for p in partitions):
            return {}
        return {
            p["context"]["organization_id"]: p["replication_key_value"]
            for p in partitions
            if set(p.get("context", {})) == {"organization_id"} and p.get("replication_key_value")
        }

    @property
    def paginated(self) -> bool:
        return self.config["response_mode"] == "paginated"

    # ------------------------------------------------------------------ planning

    def _plan(self, context: Context) -> PartitionPlan:
        """A partition's report days (from its own bookmark, or start_date) and windows."""
        start = setting_day(self.config["start_date"])
        end = end_day(self.config.get("end_date"), self.window_zone)
        bookmark = self.bookmark(context)
        first = first_period_day(start, first_day(start, bookmark, self.config["lookback_window_days"]), self.definition.rollup)
        pad = 1 if self.time_zone == "campaign" else 0  # campaign days: ask a day more each side, keep whole days
        windows = plan_windows(first, end, self.definition.rollup, self.config["report_window_days"], self.window_zone, pad)
        label = f"organization {context['organization_id']}"
        if "advertiser_id" in context:
            label += f", advertiser {context['advertiser_id']}"
        return PartitionPlan(label, first, end, windows, bookmark)

    def _jobs(self) -> Iterator[Job[Page]]:
        """Every partition's windows, in the order the SDK syncs the partitions (planned as the queue reaches them)."""
        for context in self.partitions:
            plan = self._plans[_key(context)] = self._plan(context)
            first_page = 0 if self.paginated else None
            yield from (Job(_key(context), context, Page(window, first_page)) for window in plan.windows)

    # ------------------------------------------------------------------ one partition

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        if self._flight is None:
            self._flight = self.in_flight(self._jobs())
            if self.config.get("advertiser_ids") and "advertiser_id" not in schemas.fields_of(self.definition.dataset):
                self.logger.warning(
                    "%s: dataset %s has no advertiser_id field; advertiser_ids is not applied to it", self.name, self.definition.dataset
                )
        flight = self._flight
        flight.next_partition()  # the queue has reached this partition: it is planned
        plan = self._plans[_key(context)]
        lookback = self.config["lookback_window_days"]
        self.logger.info(
            "%s: %s, report days %s (%s), %d window(s)%s; dataset %s, %s mode",
            self.name,
            plan.label,
            day_span(plan.first, plan.end),
            self.time_zone or "UTC",
            len(plan.windows),
            f", re-reading from bookmark {str(plan.bookmark)[:10]} minus {lookback} day(s)" if plan.bookmark else "",
            self.definition.dataset,
            "paginated" if self.paginated else "streaming",
        )
        self.checkpoints.start_partition(plan.label, len(plan.windows))
        rows = 0
        with flight.stopping_on_failure():
            while flight.next_partition() == _key(context):
                job, response = flight.take()
                for row in self._page_rows(job, response):
                    rows += 1
                    yield row
        if not rows and "advertiser_id" in context:
            self.logger.warning(
                "%s: advertiser_ids entry %s has no rows in report days %s: check that it is an advertiser of organization %s",
                self.name,
                context["advertiser_id"],
                day_span(plan.first, plan.end),
                context["organization_id"],
            )

    def request_body(self, context: Context, page: Page) -> dict:
        """The query for one window (and page) of a partition: fields, filters, rollup, start_time/end_time, time_zone."""
        definition = self.definition
        filters: list[dict] = [{"field": "organization_id", "op": "=", "value": int(context["organization_id"])}]
        if "advertiser_id" in context:
            filters.append({"field": "advertiser_id", "op": "=", "value": int(context["advertiser_id"])})
        filters += [dict(item) for item in definition.filters]  # passed through exactly as defined
        body: dict[str, t.Any] = {
            "fields": definition.request_fields,
            "filters": filters,
            "rollup": definition.rollup,
            "start_time": page.window.start_time,
            "end_time": page.window.end_time,
        }
        if definition.rollup != "all":
            body["order"] = [{"field": "agg_timestamp", "desc": False}]
        if self.time_zone:
            body["time_zone"] = self.time_zone
        if page.page_index is not None:
            body["pagination"] = {"page_size": int(self.config["page_size"]), "page_index": page.page_index}
        return body

    @override
    def prepare_request_payload(self, context: Context | None, next_page_token: Page | None) -> dict:
        assert context is not None and next_page_token is not None
        return self.request_body(context, next_page_token)

    # ------------------------------------------------------------------ parsing

    def _page_rows(self, job: Job[Page], response: requests.Response) -> t.Iterable[dict]:
        """The rows of one answer, checked (dates inside the window, metrics numbers or null).

        When the connection breaks while the answer is read, the window (or page) is asked for again, with
        the request retries' waits and number of tries: the rows it already gave are emitted again, which
        is harmless (the key makes them upserts) where failing would force a whole new run.
        """
        assert self._flight is not None
        page = job.token
        organization_id = int(self.config["organization_id"])
        where = f"MediaMath {self.name}: POST /{self.definition.dataset} for {self._plans[job.partition].label}, window {page.window}" + (
            f", page {page.page_index}" if page.page_index is not None else ""
        )
        if page.page_index in (None, 0):
            self._count = AnswerCount()  # each try of a window is counted afresh
            self._window_rows = 0
        try:
            rows = self._answer_rows(job, response, where)
            window = page.window
            pad = window.pad_days
            dated = self.replication_key is not None
            first, end = self._allowed_days(window)
            metrics = self._metrics
            for row in rows:
                if dated:
                    stamp = row.get("agg_timestamp")
                    if stamp.__class__ is not str or not first <= stamp[:10] < end:
                        raise FatalAPIError(
                            f"{where}: a row's agg_timestamp {stamp!r} is outside the window (report days {first}..{end}, end exclusive)"
                        )
                    if pad and not window.holds(stamp):
                        continue  # a partial day at the padded edge: its whole self comes with its own window
                for name in metrics:
                    if row.get(name).__class__ not in _NUMBER_TYPES:
                        raise FatalAPIError(f"{where}: metric {name!r} of a row is not a number: {row.get(name)!r}")
                if "organization_id" not in row:
                    row["organization_id"] = organization_id
                self._window_rows += 1
                yield row
        except BrokenAnswerError as exc:
            tries = page.attempt + 1
            if tries >= MAX_TRIES:
                raise BrokenAnswerError(f"{exc}; gave up after {tries} tries") from None
            wait = backoff_seconds(tries)
            self.retries += 1
            self.logger.warning(
                "Retrying after try %d of %d (waiting %.1f s; the window's rows already emitted come again): %s",
                tries,
                MAX_TRIES,
                wait,
                exc,
            )
            _sleep(wait)
            self._flight.put_first([Job(job.partition, job.context, Page(page.window, page.page_index, page.attempt + 1))])
            return
        if page.page_index is None or page.page_index + 1 >= (self._count.total_pages or 0):
            last = last_period_start(window, self.definition.rollup)
            last_value = rfc3339(dt.datetime(last.year, last.month, last.day, tzinfo=window.zone))
            self.checkpoints.window_done(job.context, day_span(window.start, window.end), self._window_rows, last_value)

    def _answer_rows(self, job: Job[Page], response: requests.Response, where: str) -> t.Iterable[dict]:
        """The answer's rows: streamed as they arrive, or a page (whose first says how many pages follow)."""
        assert self._flight is not None
        page = job.token
        if page.page_index is None:
            return self.streamed_rows(response, self._count, where)
        rows = self.paginated_rows(response, self._count, where)
        if page.page_index == 0:  # the window's further pages come next, before any other answer
            pages = range(1, self._count.total_pages or 0)
            self._flight.put_first(Job(job.partition, job.context, Page(page.window, index)) for index in pages)
        if page.page_index + 1 >= (self._count.total_pages or 0):
            check_count(self._count, where)
        return rows

    @override
    def log_sync_costs(self) -> None:
        super().log_sync_costs()
        if self.checkpoints.totals.windows:
            self.logger.info("%s", self.checkpoints.summary(self.requests_sent, self.retries))

    def _allowed_days(self, window: Window) -> tuple[str, str]:
        """The report days a row of ``window``'s answer may be dated (ISO dates, end exclusive): the days asked
        for, widened to the start of the first period (a clipped week or month is labelled with its start) and,
        in campaign time zones, by a day each side (each campaign's days are offset from UTC)."""
        margin = window.pad_days + (1 if self.time_zone == "campaign" else 0)
        first = period_start(window.start - dt.timedelta(days=margin), PERIOD_OF_ROLLUP.get(self.definition.rollup, "day"))
        return first.isoformat(), (window.end + dt.timedelta(days=margin)).isoformat()
