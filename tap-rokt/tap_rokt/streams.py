"""The Rokt streams: accounts, the two help listings, and report streams (built-in and custom)."""

from __future__ import annotations

import dataclasses
import operator
import typing as t
from decimal import Decimal
from http import HTTPStatus
from zoneinfo import ZoneInfo

from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from . import schemas
from .checkpoints import Checkpoints
from .client import RoktStream
from .inflight import InFlight, Job
from .isolation import PartitionRefusedError, partition_answers
from .report_days import day_span, end_day, first_day, setting_day
from .windows import ReportRequest, Window, first_period_day, period_start, plan_windows

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Sequence

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from .lookups import HelpRows, RoktLookups

REPORTS = ("campaigns", "transactions")
# A metric's value: a number (a fraction decodes as Decimal), or null. Not bool, whose type is not one of these.
_NUMBER_TYPES = frozenset({int, Decimal, type(None)})


class AccountsStream(RoktStream):
    """Accounts the credentials can see (only those in ``account_ids`` when it is set)."""

    name = "accounts"
    path = "/v1/query/accounts"
    primary_keys = ("accountId",)
    schema = schemas.ACCOUNT

    def fetch(self) -> list[dict]:
        """Every account the credentials can see, from the API."""
        return list(self.request_records(None))

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self.lookups.accounts  # fetched once per run

    @override
    def validate_response(self, response: requests.Response) -> None:
        if response.status_code == HTTPStatus.NOT_FOUND:
            return  # the documented answer of a user without accounts: an empty list
        super().validate_response(response)

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        if response.status_code == HTTPStatus.NOT_FOUND:
            return []
        return super().parse_response(response)


class AccountPartitionedStream(RoktStream):
    """A stream with one partition, and one state bookmark, per extracted account."""

    @property
    @override
    def partitions(self) -> list[dict]:
        return [{"account_id": account["accountId"]} for account in self.lookups.accounts]


class ReportFieldsStream(AccountPartitionedStream):
    """The dimensions and metrics a report offers an account, from its help endpoint."""

    primary_keys = ("account_id", "kind", "slug")
    schema = schemas.REPORT_FIELD
    report: str

    def fetch_all(self, account_ids: Sequence[str]) -> dict[str, HelpRows]:
        """Every account's help rows (or the API's refusal of them), from the API, requests in flight."""
        flight: InFlight[None] = self.in_flight(Job(account_id, {"account_id": account_id}, None) for account_id in account_ids)
        found: dict[str, HelpRows] = {}
        while (account_id := flight.next_partition()) is not None:
            try:
                _, response = flight.take()
            except PartitionRefusedError as refusal:
                found[str(account_id)] = refusal
                continue
            found[str(account_id)] = [{**row, "account_id": account_id} for row in self.parse_response(response)]
        return found

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        rows = self.lookups.report_fields(self.report, context["account_id"])
        if isinstance(rows, PartitionRefusedError):
            self.set_aside(context["account_id"], rows)
            return
        yield from rows

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = self.answer(response)
        if not isinstance(body, dict):
            raise FatalAPIError(f"{self.describe_request(response.request)}: the answer is not an object: {str(body)[:120]!r}")
        for kind in ("dimension", "metric"):
            for entry in body.get(f"{kind}s") or []:
                yield {
                    "kind": kind,
                    "slug": entry["slug"],
                    "description": entry.get("description"),
                    "type": schemas.field_type(entry, kind),
                }


class CampaignReportFieldsStream(ReportFieldsStream):
    name = "campaign_report_fields"
    path = "/v1/query/accounts/{account_id}/campaigns/help"
    report = "campaigns"


class TransactionReportFieldsStream(ReportFieldsStream):
    name = "transaction_report_fields"
    path = "/v1/query/accounts/{account_id}/transactions/help"
    report = "transactions"


@dataclasses.dataclass(frozen=True)
class ReportDefinition:
    """What a report stream asks for: the contract's report definition."""

    name: str
    report: str  # campaigns | transactions
    dimensions: tuple[str, ...] = ()
    metrics: tuple[str, ...] | None = None  # None: every metric the account's help lists
    dimension_filters: t.Mapping[str, t.Sequence[str]] = dataclasses.field(default_factory=dict)
    interval: str = "day"

    @classmethod
    def from_setting(cls, item: dict) -> ReportDefinition:
        return cls(
            name=item["name"],
            report=item["report"],
            dimensions=tuple(item.get("dimensions") or ()),
            metrics=tuple(item["metrics"]) if item.get("metrics") else None,
            dimension_filters=dict(item.get("dimension_filters") or {}),
            interval=item.get("interval") or "day",
        )


BUILT_IN_REPORTS = (
    ReportDefinition("campaign_report", "campaigns", dimensions=("campaign_id",)),
    ReportDefinition("transaction_report", "transactions"),
)


@dataclasses.dataclass(frozen=True)
class PartitionQuery:
    """The request parameters fixed for one account's run."""

    account_id: str
    timezone: str
    currency_code: str
    metrics: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PartitionPlan:
    """One account's report days and windows for this run."""

    query: PartitionQuery
    first: dt.date
    end: dt.date
    windows: list[Window]
    bookmark: str | None


class ReportStream(AccountPartitionedStream):
    """A report queried per account in date windows; incremental on the period start ``datetime``.

    Every account's windows are laid out as one queue of requests, sent up to ``max_concurrent_requests`` at a
    time (inflight.py) and answered in order, so each account's rows still come in period order.
    """

    http_method = "POST"
    replication_key = "datetime"
    # Rows are emitted in period order within each account, so the bookmark can advance as they go
    # and an interrupted run resumes; lookback re-reads go back before the bookmark, hence no sort check.
    is_sorted = True
    check_sorted = False
    # Checkpoints are per window (checkpoints.py); this is only the SDK's fallback inside a very large window.
    STATE_MSG_FREQUENCY = 10_000
    # Rows are flat JSON scalars whose metric types _report_rows has already checked: the SDK's
    # per-value conformance pass would only cost time (it was 40% of a large sync's CPU).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, lookups: RoktLookups, definition: ReportDefinition, schema: dict) -> None:
        slash = "/" if definition.report == "campaigns" else ""  # the documented paths
        super().__init__(
            tap, lookups, name=definition.name, schema=schema, path=f"/v1/query/accounts/{{account_id}}/{definition.report}{slash}"
        )
        self.definition = definition
        self.primary_keys = ["account_id", "datetime", *definition.dimensions]
        self.checkpoints = Checkpoints(self, tap)
        self._plans: dict[str, PartitionPlan | PartitionRefusedError] = {}
        self._flight: InFlight[ReportRequest] | None = None

    # ------------------------------------------------------------------ planning

    def _plan(self, account: dict) -> PartitionPlan | PartitionRefusedError:
        """An account's report days (from its own bookmark, or start_date) and windows; or the refusal of its help."""
        context = {"account_id": account["accountId"]}
        metrics = self.definition.metrics or self.lookups.metric_slugs(self.definition.report, account["accountId"])
        if isinstance(metrics, PartitionRefusedError):
            return metrics
        timezone = self.config.get("timezone") or account["accountTimezone"]
        start = setting_day(self.config["start_date"])
        end = end_day(self.config.get("end_date"), ZoneInfo(timezone))
        bookmark = self.get_context_state(context).get("replication_key_value")
        first = first_period_day(start, first_day(start, bookmark, self.config["lookback_window_days"]), self.definition.interval)
        query = PartitionQuery(
            account_id=account["accountId"],
            timezone=timezone,
            currency_code=self.config.get("currency_code") or account["accountCurrencyCode"],
            metrics=metrics,
        )
        windows = plan_windows(first, end, self.definition.interval, self.config["report_window_days"])
        return PartitionPlan(query, first, end, windows, bookmark)

    def _jobs(self) -> Iterator[Job[ReportRequest]]:
        """Every account's windows, in the order the SDK syncs the accounts (planned as the queue reaches them)."""
        for account in self.lookups.accounts:
            plan = self._plans[account["accountId"]] = self._plan(account)
            if isinstance(plan, PartitionPlan):
                context = {"account_id": account["accountId"]}
                yield from (Job(account["accountId"], context, ReportRequest(plan.query, window)) for window in plan.windows)

    # ------------------------------------------------------------------ one account

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        account_id = context["account_id"]
        if self._flight is None:
            self._flight = self.in_flight(self._jobs())
        flight = self._flight
        flight.next_partition()  # the queue has reached this account: it is planned
        plan = self._plans[account_id]
        if isinstance(plan, PartitionRefusedError):
            self.set_aside(account_id, plan)
            return
        self.logger.info(
            "%s: account %s, report days %s (%s), %d window(s)%s",
            self.name,
            account_id,
            day_span(plan.first, plan.end),
            plan.query.timezone,
            len(plan.windows),
            f", re-reading from bookmark {str(plan.bookmark)[:10]} minus {self.config['lookback_window_days']} day(s)"
            if plan.bookmark
            else "",
        )
        self.checkpoints.start_partition(f"account {account_id}", len(plan.windows))
        with flight.stopping_on_failure():
            for job, response in partition_answers(flight, account_id, lambda refusal: self.set_aside(account_id, refusal)):
                yield from self._window_rows(job, response)

    @override
    def prepare_request_payload(self, context: Context | None, next_page_token: ReportRequest | None) -> dict:
        assert next_page_token is not None
        query, window = next_page_token.query, next_page_token.window
        body: dict[str, t.Any] = {
            "timezoneVariation": query.timezone,
            "currencyCode": query.currency_code,
            "interval": self.definition.interval,
            "startDate": window.start.isoformat(),
            "endDate": window.end.isoformat(),
            "metrics": list(query.metrics),
            "limit": self.config["report_row_limit"],
        }
        if self.definition.dimensions:
            body["dimensions"] = list(self.definition.dimensions)
        if self.definition.dimension_filters:
            body["dimensionFilters"] = {k: list(v) for k, v in self.definition.dimension_filters.items()}
        return body

    # ------------------------------------------------------------------ parsing

    def _window_rows(self, job: Job[ReportRequest], response: requests.Response) -> t.Iterable[dict]:
        """One window's rows, stamped and in period order, then its checkpoint; or its halves asked for next."""
        assert self._flight is not None
        query, window = job.token.query, job.token.window
        rows = self._report_rows(response, query, window)
        limit = self.config["report_row_limit"]
        if len(rows) >= limit:
            # No pagination and no total: a full answer may be a cut one. Ask again in halves.
            halves = window.split()
            if halves is None:
                msg = (
                    f"Rokt {self.name} for account {query.account_id}, window {window}: the answer has "
                    f"{len(rows)} rows, the report_row_limit, for a single period, so it may be truncated. "
                    f"Raise report_row_limit (or use fewer dimensions)."
                )
                raise FatalAPIError(msg)
            self.logger.info("%s: window %s reached %d rows, splitting it in two", self.name, window, limit)
            self._flight.put_first(Job(job.partition, job.context, ReportRequest(query, half)) for half in halves)
            return
        stamp = {"account_id": query.account_id, "timezone": query.timezone, "currency_code": query.currency_code}
        rows.sort(key=operator.itemgetter("datetime"))
        for row in rows:
            row.update(stamp)
            yield row
        last_period = f"{window.periods[-1][0].isoformat()}T00:00:00Z"  # the API's datetime of a period start
        self.checkpoints.window_done({"account_id": query.account_id}, day_span(window.start, window.end), len(rows), last_period)

    @override
    def log_sync_costs(self) -> None:
        super().log_sync_costs()
        if self.checkpoints.totals.windows:
            self.logger.info("%s", self.checkpoints.summary(self.requests_sent, self.retries))

    def _report_rows(self, response: requests.Response, query: PartitionQuery, window: Window) -> list[dict]:
        """The ``data`` rows of an answer, checked: a JSON object, periods inside the window, numeric metrics."""
        where = f"Rokt {self.name} for account {query.account_id}, window {window}"
        body = self.answer(response)
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise FatalAPIError(f"{where}: the answer has no 'data' list: {str(body)[:120]!r}")
        # A clipped first period (start_date inside a week or month) is labelled with its period's start.
        first = period_start(window.start, self.definition.interval).isoformat()
        end = window.end.isoformat()
        for row in rows:
            period = row.get("datetime") if isinstance(row, dict) else None
            if not isinstance(period, str) or not first <= period[:10] < end:
                raise FatalAPIError(f"{where}: a row's datetime {period!r} is outside the window")
            for metric in query.metrics:
                if type(row.get(metric)) not in _NUMBER_TYPES:
                    raise FatalAPIError(f"{where}: metric {metric!r} is not a number: {row[metric]!r}")
        return rows
