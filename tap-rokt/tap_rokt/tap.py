"""tap-rokt: the Rokt Query API as a Singer tap (accounts, help listings, campaign and transaction reports)."""

from __future__ import annotations

import re
import typing as t
from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from typing_extensions import override

from . import schemas, streams
from .auth import RoktAuthenticator
from .cli import OneLineErrorCommand
from .isolation import PartitionRefusedError
from .lookups import HelpRows, RoktLookups
from .settings import CheckedSettingsTap, timezone_error
from .windows import INTERVALS
from .writer import CheckpointFlushingWriter

if t.TYPE_CHECKING:
    import click

REPORT_DEFINITION = th.ObjectType(
    th.Property("name", th.StringType, required=True, description="Stream name (letters, digits, underscores)"),
    th.Property("report", th.StringType, required=True, allowed_values=list(streams.REPORTS)),
    th.Property("dimensions", th.ArrayType(th.StringType), description="Dimension slugs to group by"),
    th.Property("metrics", th.ArrayType(th.StringType), description="Metric slugs (default: all the account offers)"),
    th.Property(
        "dimension_filters",
        th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
        description="Dimension slug -> values to keep",
    ),
    th.Property("interval", th.StringType, default="day", allowed_values=list(INTERVALS)),
)


class TapRokt(CheckedSettingsTap):
    """Singer tap for the Rokt Query API."""

    name = "tap-rokt"
    package_name = "adtech-tap-rokt"
    dynamic_catalog = True  # report schemas come from each account's help endpoint
    message_writer_class = CheckpointFlushingWriter
    capabilities: t.ClassVar = [
        TapCapabilities.CATALOG,
        TapCapabilities.DISCOVER,
        TapCapabilities.STATE,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
    ]

    config_jsonschema = th.PropertiesList(
        th.Property("app_id", th.StringType, required=True, title="App ID", description="Rokt App ID"),
        th.Property("app_secret", th.StringType, required=True, secret=True, title="App Secret", description="Rokt App Secret"),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            required=True,
            description=(
                "First report day to extract on a first run. Its calendar date names the report day in each account's"
                " timezone; a time of day or an offset in the setting is ignored"
            ),
        ),
        th.Property(
            "end_date",
            th.DateTimeType,
            title="End date",
            description=(
                "First report day not to extract, named by its calendar date as start_date is. Default: today in each"
                " account's timezone, so only whole days"
            ),
        ),
        th.Property(
            "lookback_window_days",
            th.IntegerType(minimum=0),
            title="Lookback window (days)",
            default=7,
            description="Days before the bookmark that every incremental run extracts again (Rokt restates recent days)",
        ),
        th.Property("api_url", th.StringType, title="API URL", default="https://api.rokt.com", description="Base URL of the Rokt API"),
        th.Property(
            "account_ids",
            th.ArrayType(th.StringType),
            title="Account IDs",
            description="Accounts to extract (default: every account the credentials can see)",
        ),
        th.Property(
            "timezone",
            th.StringType,
            title="Timezone",
            description="IANA timezone of report days, sent as timezoneVariation (default: each account's accountTimezone)",
        ),
        th.Property(
            "currency_code",
            th.StringType,
            title="Currency code",
            description="ISO 4217 currency of money metrics, sent as currencyCode (default: each account's accountCurrencyCode)",
        ),
        th.Property(
            "reports",
            th.ArrayType(REPORT_DEFINITION),
            title="Custom reports",
            description="Extra report streams: {name, report, dimensions, metrics, dimension_filters, interval}",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType(minimum=1, maximum=32),
            title="Requests in flight",
            default=4,
            description=(
                "API requests a stream keeps in flight at once (every account's report windows and help listings);"
                " 1 makes them one after another"
            ),
        ),
        th.Property(
            "report_window_days",
            th.IntegerType(minimum=1),
            title="Report window (days)",
            default=31,
            description=(
                "Most report days asked for in one request (windows are halved automatically when an answer reaches report_row_limit)"
            ),
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            title="Request timeout (seconds)",
            default=300,
            description="Seconds to wait for an answer before retrying the request",
        ),
        th.Property(
            "report_row_limit",
            th.IntegerType(minimum=1),
            title="Report row limit",
            default=10000,
            description="Rows asked for per request (limit); an answer that reaches it may be truncated and is split or fails",
        ),
    ).to_dict()

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        return OneLineErrorCommand.from_command(super().get_singer_command(), cls.logger)

    @override
    def setting_errors(self, config: t.Mapping[str, t.Any]) -> list[str]:
        """Beyond the dates: the timezone, the currency and the report definitions."""
        errors = super().setting_errors(config)
        errors += timezone_error("timezone", config.get("timezone"))
        if config.get("currency_code") and not re.fullmatch(r"[A-Z]{3}", str(config["currency_code"])):
            errors.append(f"currency_code: {config['currency_code']!r} is not an ISO 4217 code (e.g. USD)")
        errors += _report_definition_errors(config.get("reports") or [])
        return errors

    # ------------------------------------------------------------------ what the streams share

    @cached_property
    def lookups(self) -> RoktLookups:
        """The token, the requests in flight, the accounts and their help listings, shared by every stream."""
        return RoktLookups(self.config, self._authenticator, self._load_accounts, self._load_report_fields)

    def _authenticator(self) -> RoktAuthenticator:
        return RoktAuthenticator(
            app_id=self.config["app_id"],
            app_secret=self.config["app_secret"],
            auth_endpoint=f"{str(self.config['api_url']).rstrip('/')}/auth/oauth2/token",
        )

    def _load_accounts(self) -> list[dict]:
        return streams.AccountsStream(self, self.lookups).fetch()

    def _load_report_fields(self, report: str, account_ids: t.Sequence[str]) -> dict[str, HelpRows]:
        stream_class = streams.CampaignReportFieldsStream if report == "campaigns" else streams.TransactionReportFieldsStream
        return stream_class(self, self.lookups).fetch_all(account_ids)

    # ------------------------------------------------------------------ streams

    @override
    def discover_streams(self) -> list[streams.RoktStream]:
        definitions = list(streams.BUILT_IN_REPORTS)
        definitions += [streams.ReportDefinition.from_setting(item) for item in self.config.get("reports") or []]
        found: list[streams.RoktStream] = [
            streams.AccountsStream(self, self.lookups),
            streams.CampaignReportFieldsStream(self, self.lookups),
            streams.TransactionReportFieldsStream(self, self.lookups),
        ]
        found += [streams.ReportStream(self, self.lookups, definition, self._report_schema(definition)) for definition in definitions]
        return found

    def _report_schema(self, definition: streams.ReportDefinition) -> dict:
        """The union, over the extracted accounts, of the fields the definition asks for, typed as help says;
        an unknown slug fails with the valid ones. A stream the input catalog leaves unselected keeps the
        catalog's schema: a sync does not ask every account's help listing for a report it does not extract."""
        entry = self.input_catalog.get_stream(definition.name) if self.input_catalog else None
        if entry is not None and not entry.metadata.resolve_selection().get((), True):
            return entry.schema.to_dict()
        dimensions: dict[str, str] = {}
        metrics: dict[str, str] = {}
        for account in self.lookups.accounts:
            rows = self.lookups.report_fields(definition.report, account["accountId"])
            if isinstance(rows, PartitionRefusedError):
                self._warn_refused(definition, account["accountId"], rows)
                continue
            offered = {(row["kind"], row["slug"]): row["type"] for row in rows}
            valid = {kind: sorted(slug for k, slug in offered if k == kind) for kind in ("dimension", "metric")}
            asked = {
                "dimension": list(definition.dimensions) + list(definition.dimension_filters),
                "metric": list(definition.metrics or valid["metric"]),
            }
            for kind, slugs in asked.items():
                unknown = [slug for slug in slugs if (kind, slug) not in offered]
                if unknown:
                    msg = (
                        f"reports[{definition.name}]: unknown {kind} slug(s) {', '.join(unknown)} for account "
                        f"{account['accountId']}; valid {kind}s: {', '.join(valid[kind])}"
                    )
                    raise ConfigValidationError(msg, errors=[msg])
            dimensions.update({slug: offered[("dimension", slug)] for slug in definition.dimensions})
            metrics.update({slug: offered[("metric", slug)] for slug in asked["metric"]})
        return schemas.report_schema(dimensions, metrics)

    @cached_property
    def _warned_refusals(self) -> set[tuple[str, str]]:
        return set()

    def _warn_refused(self, definition: streams.ReportDefinition, account_id: str, refusal: PartitionRefusedError) -> None:
        """An account whose help the API refuses is left out of the schema (a sync sets its reports aside)."""
        if (definition.report, account_id) in self._warned_refusals:
            return  # each custom report on the same listing would say it again
        self._warned_refusals.add((definition.report, account_id))
        self.logger.warning(
            "account %s: its %s report fields are left out of the catalog and a sync sets its reports aside: %s; "
            "leave it out with account_ids, or restore access",
            account_id,
            definition.report,
            refusal,
        )


def _report_definition_errors(definitions: list[dict]) -> list[str]:
    errors = []
    taken = {"accounts", "campaign_report_fields", "transaction_report_fields"} | {d.name for d in streams.BUILT_IN_REPORTS}
    for index, item in enumerate(definitions):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            errors.append(f"reports[{index}].name: {name!r} must be letters, digits and underscores")
        elif name in taken:
            errors.append(f"reports[{index}].name: {name!r} is already a stream name")
        else:
            taken.add(name)
    return errors
