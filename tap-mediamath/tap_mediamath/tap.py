"""tap-mediamath: the MediaMath Reporting API v2 as a Singer tap (performance and custom reports)."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from typing_extensions import override

from . import schemas, streams
from .auth import MediaMathAuthenticator
from .cli import OneLineErrorCommand
from .lookups import MediaMathLookups
from .settings import CheckedSettingsTap, timezone_error
from .writer import CheckpointFlushingWriter

if t.TYPE_CHECKING:
    import click

FILTER = th.ObjectType(
    th.Property("field", th.StringType, description="Field to filter by"),
    th.Property("op", th.StringType, description="= (array: IN), !=, >, >=, <, <=, =~, and, or, isNull, isNotNull"),
    th.Property("value", th.CustomType({}), description="Value (or array of values) to compare with"),
    th.Property("filters", th.ArrayType(th.ObjectType(additional_properties=True)), description="Nested filters (op and/or)"),
    additional_properties=True,
)

REPORT_DEFINITION = th.ObjectType(
    th.Property("name", th.StringType, required=True, description="Stream name (letters, digits, underscores)"),
    th.Property("dataset", th.StringType, required=True, allowed_values=schemas.dataset_names(), description="Reporting API v2 dataset"),
    th.Property(
        "fields", th.ArrayType(th.StringType), required=True, description="Dimensions and metrics of the dataset (see the field catalog)"
    ),
    th.Property("filters", th.ArrayType(FILTER), description="The API's filter objects, nested and/or allowed"),
    th.Property("rollup", th.StringType, default="by_day", allowed_values=list(streams.ROLLUPS)),
    th.Property("time_zone", th.StringType, description="UTC, campaign or an IANA name (datasets that support it)"),
)


class TapMediaMath(CheckedSettingsTap):
    """Singer tap for the MediaMath Reporting API v2."""

    name = "tap-mediamath"
    package_name = "adtech-tap-mediamath"
    dynamic_catalog = True  # custom report schemas come from the field catalog and the reports setting
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
        th.Property("client_id", th.StringType, required=True, title="Client ID", description="OAuth client ID"),
        th.Property("client_secret", th.StringType, required=True, secret=True, title="Client secret", description="OAuth client secret"),
        th.Property("username", th.StringType, required=True, title="Username", description="MediaMath user (password grant)"),
        th.Property("password", th.StringType, required=True, secret=True, title="Password", description="Password of the MediaMath user"),
        th.Property(
            "organization_id",
            th.IntegerType,
            required=True,
            title="Organization ID",
            description="Organization to extract, sent as an organization_id filter on every query",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            required=True,
            title="Start date",
            description=(
                "First report day to extract on a first run. Its calendar date names the report day in the report's "
                "time zone (time_zone, or UTC); a time of day or an offset in the setting is ignored"
            ),
        ),
        th.Property(
            "end_date",
            th.DateTimeType,
            title="End date",
            description=(
                "First report day not to extract, named by its calendar date as start_date is. Default: today in the "
                "report's time zone, so only whole days"
            ),
        ),
        th.Property(
            "lookback_window_days",
            th.IntegerType(minimum=0),
            default=3,
            title="Lookback window (days)",
            description="Days before the bookmark that every incremental run extracts again (restated days)",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://api.mediamath.com/reporting/v2",
            title="API URL",
            description="Base URL of the Reporting API v2; a dataset is queried as POST {api_url}/{dataset}",
        ),
        th.Property(
            "auth_url",
            th.StringType,
            default="https://auth.mediamath.com/oauth/token",
            title="Auth URL",
            description="OAuth token endpoint (password grant)",
        ),
        th.Property(
            "audience", th.StringType, default="https://api.mediamath.com/", title="Audience", description="OAuth audience of the token"
        ),
        th.Property(
            "advertiser_ids",
            th.ArrayType(th.IntegerType),
            title="Advertiser IDs",
            description="Only these advertisers (an advertiser_id filter); default: all",
        ),
        th.Property(
            "time_zone",
            th.StringType,
            title="Time zone",
            description="UTC, campaign or an IANA name, sent as time_zone where the dataset supports it (default: the dataset's own)",
        ),
        th.Property(
            "response_mode",
            th.StringType,
            default="streaming",
            allowed_values=["streaming", "paginated"],
            title="Response mode",
            description="streaming (JSON lines, read in constant memory) or paginated",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=10000),
            default=10000,
            title="Page size",
            description="Rows per page in paginated mode, from 1 to 10000 (the API's text docs say at most 1000, its OpenAPI file 10000)",
        ),
        th.Property(
            "report_window_days",
            th.IntegerType(minimum=1),
            default=31,
            title="Report window (days)",
            description=(
                "Most report days asked for in one request (streamed answers are read in constant memory and counted,"
                " so a month per request is safe)"
            ),
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType(minimum=1, maximum=32),
            title="Requests in flight",
            default=4,
            description="API requests a stream keeps in flight at once; 1 makes them one after another",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=300,
            title="Request timeout (seconds)",
            description="Seconds to wait for an answer (or for the next bytes of a streamed one) before retrying",
        ),
        th.Property(
            "reports",
            th.ArrayType(REPORT_DEFINITION),
            title="Custom reports",
            description="Extra report streams: {name, dataset, fields, filters, rollup, time_zone}",
        ),
    ).to_dict()

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        return OneLineErrorCommand.from_command(super().get_singer_command(), cls.logger)

    @override
    def setting_errors(self, config: t.Mapping[str, t.Any]) -> list[str]:
        """Beyond the dates: the time zone and the report definitions."""
        errors = super().setting_errors(config)
        errors += timezone_error("time_zone", config.get("time_zone"), "UTC", "campaign")
        taken = {streams.PERFORMANCE.name}
        reports = config.get("reports") or []
        for index, item in enumerate(reports):
            errors += streams.definition_errors(item, index, taken)
        return errors

    @cached_property
    def lookups(self) -> MediaMathLookups:
        """The token, the requests in flight and the partitions, shared by every stream."""
        return MediaMathLookups(self.config, self._authenticator)

    def _authenticator(self) -> MediaMathAuthenticator:
        return MediaMathAuthenticator(
            auth_url=self.config["auth_url"],
            audience=self.config["audience"],
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            username=self.config["username"],
            password=self.config["password"],
        )

    # ------------------------------------------------------------------ streams

    @override
    def discover_streams(self) -> list[streams.ReportStream]:
        definitions = [streams.PERFORMANCE]
        definitions += [streams.ReportDefinition.from_setting(item) for item in self.config.get("reports") or []]
        return [streams.ReportStream(self, self.lookups, definition) for definition in definitions]
