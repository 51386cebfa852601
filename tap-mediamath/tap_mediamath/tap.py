"""tap-mediamath: the MediaMath Reporting API v2 as a Singer tap (performance and custom reports)."""

from __future__ import annotations

import typing as t
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.plugin_base import SingerCommand

from tap_mediamath import schemas, streams
from tap_mediamath.auth import MediaMathAuthenticator
from tap_mediamath.windows import parse_setting_date
from tap_mediamath.writer import CheckpointFlushingWriter

FILTER = th.ObjectType(
    th.Property("field", th.StringType, description="Field to filter by"),
    th.Property("op", th.StringType, description="= (array: IN), !=, >, >=, <, <=, =~, and, or, isNull, isNotNull"),
    th.Property("value", th.CustomType({}), description="Value (or array of values) to compare with"),
    th.Property("filters", th.ArrayType(th.ObjectType(additional_properties=True)),
                description="Nested filters (op and/or)"),
    additional_properties=True,
)

REPORT_DEFINITION = th.ObjectType(
    th.Property("name", th.StringType, required=True, description="Stream name (letters, digits, underscores)"),
    th.Property("dataset", th.StringType, required=True, allowed_values=schemas.dataset_names(),
                description="Reporting API v2 dataset"),
    th.Property("fields", th.ArrayType(th.StringType), required=True,
                description="Dimensions and metrics of the dataset (see the field catalog)"),
    th.Property("filters", th.ArrayType(FILTER), description="The API's filter objects, nested and/or allowed"),
    th.Property("rollup", th.StringType, default="by_day", allowed_values=list(streams.ROLLUPS)),
    th.Property("time_zone", th.StringType, description="UTC, campaign or an IANA name (datasets that support it)"),
)


class _OneLineErrors(SingerCommand):
    """Known failures (API answers, bad settings found late) end in one log line, without a traceback."""

    EXPECTED = (FatalAPIError, RetriableAPIError, requests.RequestException, ConfigValidationError)

    def excepthook(self, exc_type, exc_value, exc_traceback) -> None:  # noqa: ANN001
        if issubclass(exc_type, self.EXPECTED):
            self.logger.error("%s", exc_value)
            return
        super().excepthook(exc_type, exc_value, exc_traceback)


class TapMediaMath(Tap):
    """Singer tap for the MediaMath Reporting API v2."""

    name = "tap-mediamath"
    package_name = "adtech-tap-mediamath"
    dynamic_catalog = True  # custom report schemas come from the field catalog and the reports setting
    message_writer_class = CheckpointFlushingWriter

    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, required=True, title="Client ID", description="OAuth client ID"),
        th.Property("client_secret", th.StringType, required=True, secret=True, title="Client secret",
                    description="OAuth client secret"),
        th.Property("username", th.StringType, required=True, title="Username",
                    description="MediaMath user (password grant)"),
        th.Property("password", th.StringType, required=True, secret=True, title="Password",
                    description="Password of the MediaMath user"),
        th.Property("organization_id", th.IntegerType, required=True, title="Organization ID",
                    description="Organization to extract, sent as an organization_id filter on every query"),
        th.Property("start_date", th.DateTimeType, required=True, title="Start date",
                    description="First report day to extract on a first run (a date is midnight UTC)"),
        th.Property("end_date", th.DateTimeType, title="End date",
                    description="Extract report days before this day (default: today, so whole days only)"),
        th.Property("lookback_window_days", th.IntegerType(minimum=0), default=3, title="Lookback window (days)",
                    description="Days before the bookmark that every incremental run extracts again (restated days)"),
        th.Property("api_url", th.StringType, default="https://api.mediamath.com/reporting/v2", title="API URL",
                    description="Base URL of the Reporting API v2; a dataset is queried as POST {api_url}/{dataset}"),
        th.Property("auth_url", th.StringType, default="https://auth.mediamath.com/oauth/token", title="Auth URL",
                    description="OAuth token endpoint (password grant)"),
        th.Property("audience", th.StringType, default="https://api.mediamath.com/", title="Audience",
                    description="OAuth audience of the token"),
        th.Property("advertiser_ids", th.ArrayType(th.IntegerType), title="Advertiser IDs",
                    description="Only these advertisers (an advertiser_id filter); default: all"),
        th.Property("time_zone", th.StringType, title="Time zone",
                    description="UTC, campaign or an IANA name, sent as time_zone where the dataset supports it "
                                "(default: the dataset's own)"),
        th.Property("response_mode", th.StringType, default="streaming", allowed_values=["streaming", "paginated"],
                    title="Response mode", description="streaming (JSON lines, read in constant memory) or paginated"),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=10000), default=10000, title="Page size",
                    description="Rows per page in paginated mode (1..10000; the API's text docs say at most 1000)"),
        th.Property("report_window_days", th.IntegerType(minimum=1), default=7, title="Report window (days)",
                    description="Most report days asked for in one request"),
        th.Property("request_timeout", th.IntegerType(minimum=1), default=300, title="Request timeout (seconds)",
                    description="Seconds to wait for an answer (or for the next bytes of a streamed one) before retrying"),
        th.Property("reports", th.ArrayType(REPORT_DEFINITION), title="Custom reports",
                    description="Extra report streams: {name, dataset, fields, filters, rollup, time_zone}"),
    ).to_dict()

    @classmethod
    def get_singer_command(cls) -> SingerCommand:
        command = super().get_singer_command()
        command.__class__ = _OneLineErrors
        return command

    # ------------------------------------------------------------------ settings

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The JSON-schema checks, then what a schema cannot say (dates, time zone, report definitions)."""
        errors = super()._validate_config(raise_errors=False)
        config = self.config
        errors += _date_errors(config)
        zone = config.get("time_zone")
        if zone and zone not in ("UTC", "campaign"):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                errors.append(f"time_zone: {zone!r} is not UTC, campaign or an IANA time zone name (e.g. America/New_York)")
        taken = {streams.PERFORMANCE.name}
        reports = config.get("reports") or []
        if isinstance(reports, list):
            for index, item in enumerate(reports):
                errors += streams.definition_errors(item, index, taken)
        if errors and raise_errors:
            raise ConfigValidationError(errors[0], errors=errors)
        return errors

    @cached_property
    def authenticator(self) -> MediaMathAuthenticator:
        return MediaMathAuthenticator(
            auth_url=self.config["auth_url"],
            audience=self.config["audience"],
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            username=self.config["username"],
            password=self.config["password"],
        )

    # ------------------------------------------------------------------ streams

    def discover_streams(self) -> list[streams.ReportStream]:
        definitions = [streams.PERFORMANCE]
        definitions += [streams.ReportDefinition.from_setting(item) for item in self.config.get("reports") or []]
        return [streams.ReportStream(self, definition) for definition in definitions]

    def sync_all(self) -> None:
        try:
            super().sync_all()
        finally:
            # A failed stream may leave records after its last STATE in the writer's block: emit them, as the
            # SDK's own writer would have.
            self.message_writer.flush()  # type: ignore[attr-defined]


def _date_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    errors, parsed = [], {}
    for setting in ("start_date", "end_date"):
        value = config.get(setting)
        if value is None:
            continue
        try:
            parsed[setting] = parse_setting_date(str(value))
        except ValueError:
            errors.append(f"{setting}: {value!r} is not a date (YYYY-MM-DD) or an RFC 3339 date-time")
    if len(parsed) == 2 and str(parsed["end_date"])[:10] < str(parsed["start_date"])[:10]:
        errors.append(f"end_date: {config['end_date']} is before start_date {config['start_date']}")
    return errors
