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
from .report_days import day_span, end_day, first_day, setting_day
from .windows import Window, WindowPaginator, first_period_day, period_start, plan_windows

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from .tap import TapRokt

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
        yield from self.tap.accounts  # fetched once per run

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
        return [{"account_id": account["accountId"]} for account in self.tap.accounts]


class ReportFieldsStream(AccountPartitionedStream):
    """The dimensions and metrics a report offers an account, from its help endpoint."""

    primary_keys = ("account_id", "kind", "slug")
    schema = schemas.REPORT_FIELD
    report: str

    def fetch(self, account_id: str) -> list[dict]:
        """The account's help rows, from the API."""
        return [{**row, "account_id": account_id} for row in self.request_records({"account_id": account_id})]

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        yield from self.tap.report_fields(self.report, context["account_id"])

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
class _PartitionQuery:
    """The request parameters fixed for one account's run."""

    account_id: str
    timezone: str
    currency_code: str
    metrics: tuple[str, ...]


class ReportStream(AccountPartitionedStream):
    """A report queried per account in date windows; incremental on the period start ``datetime``."""

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

    def __init__(self, tap: TapRokt, definition: ReportDefinition, schema: dict) -> None:
        slash = "/" if definition.report == "campaigns" else ""  # the documented paths
        super().__init__(tap, name=definition.name, schema=schema, path=f"/v1/query/accounts/{{account_id}}/{definition.report}{slash}")
        self.definition = definition
        self.primary_keys = ["account_id", "datetime", *definition.dimensions]
        self.checkpoints = Checkpoints(self, tap)
        self._windows: list[Window] = []
        self._query: _PartitionQuery | None = None
        self._paginator: WindowPaginator | None = None

    # ------------------------------------------------------------------ planning

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        assert context is not None
        account = self.tap.account(context["account_id"])
        timezone = self.config.get("timezone") or account["accountTimezone"]
        start = setting_day(self.config["start_date"])
        end = end_day(self.config.get("end_date"), ZoneInfo(timezone))
        lookback = self.config["lookback_window_days"]
        first = first_period_day(
            start, first_day(start, self.get_starting_replication_key_value(context), lookback), self.definition.interval
        )
        self._windows = plan_windows(first, end, self.definition.interval, self.config["report_window_days"])
        bookmark = self.get_context_state(context).get("replication_key_value")
        self.logger.info(
            "%s: account %s, report days %s (%s), %d window(s)%s",
            self.name,
            account["accountId"],
            day_span(first, end),
            timezone,
            len(self._windows),
            f", re-reading from bookmark {str(bookmark)[:10]} minus {lookback} day(s)" if bookmark else "",
        )
        self.checkpoints.start_partition(f"account {account['accountId']}", len(self._windows))
        if not self._windows:
            return
        self._query = _PartitionQuery(
            account_id=account["accountId"],
            timezone=timezone,
            currency_code=self.config.get("currency_code") or account["accountCurrencyCode"],
            metrics=self.definition.metrics or self.tap.metric_slugs(self.definition.report, account["accountId"]),
        )
        yield from super().get_records(context)

    @override
    def get_new_paginator(self) -> WindowPaginator:
        self._paginator = WindowPaginator(self._windows)
        return self._paginator

    @override
    def prepare_request_payload(self, context: Context | None, next_page_token: Window | None) -> dict:
        assert self._query is not None and next_page_token is not None
        body: dict[str, t.Any] = {
            "timezoneVariation": self._query.timezone,
            "currencyCode": self._query.currency_code,
            "interval": self.definition.interval,
            "startDate": next_page_token.start.isoformat(),
            "endDate": next_page_token.end.isoformat(),
            "metrics": list(self._query.metrics),
            "limit": self.config["report_row_limit"],
        }
        if self.definition.dimensions:
            body["dimensions"] = list(self.definition.dimensions)
        if self.definition.dimension_filters:
            body["dimensionFilters"] = {k: list(v) for k, v in self.definition.dimension_filters.items()}
        return body

    # ------------------------------------------------------------------ parsing

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        assert self._query is not None and self._paginator is not None
        window = self._paginator.current_value
        rows = self._report_rows(response, window)
        limit = self.config["report_row_limit"]
        if len(rows) >= limit:
            # No pagination and no total: a full answer may be a cut one. Ask again in halves.
            halves = window.split()
            if halves is None:
                msg = (
                    f"Rokt {self.name} for account {self._query.account_id}, window {window}: the answer has "
                    f"{len(rows)} rows, the report_row_limit, for a single period, so it may be truncated. "
                    f"Raise report_row_limit (or use fewer dimensions)."
                )
                raise FatalAPIError(msg)
            self.logger.info("%s: window %s reached %d rows, splitting it in two", self.name, window, limit)
            self._paginator.split_current(halves)
            return
        stamp = {
            "account_id": self._query.account_id,
            "timezone": self._query.timezone,
            "currency_code": self._query.currency_code,
        }
        rows.sort(key=operator.itemgetter("datetime"))
        for row in rows:
            row.update(stamp)
            yield row
        last_period = f"{window.periods[-1][0].isoformat()}T00:00:00Z"  # the API's datetime of a period start
        self.checkpoints.window_done({"account_id": self._query.account_id}, day_span(window.start, window.end), len(rows), last_period)

    @override
    def log_sync_costs(self) -> None:
        super().log_sync_costs()
        if self.checkpoints.totals.windows:
            self.logger.info("%s", self.checkpoints.summary(self.requests_sent, self.retries))

    def _report_rows(self, response: requests.Response, window: Window) -> list[dict]:
        """The ``data`` rows of an answer, checked: a JSON object, periods inside the window, numeric metrics."""
        assert self._query is not None
        where = f"Rokt {self.name} for account {self._query.account_id}, window {window}"
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
            for metric in self._query.metrics:
                if type(row.get(metric)) not in _NUMBER_TYPES:
                    raise FatalAPIError(f"{where}: metric {metric!r} is not a number: {row[metric]!r}")
        return rows
