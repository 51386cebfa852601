"""tap-adroll: the AdRoll (NextRoll) CRUD API v1 as a Singer tap (entities and daily reports)."""

from __future__ import annotations

import collections
import copy
import re
import typing as t
from functools import cached_property

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.plugin_base import SingerCommand

from tap_adroll import streams
from tap_adroll.auth import AdRollAuthenticator, OAuthRefreshAuthenticator, PersonalAccessTokenAuthenticator
from tap_adroll.windows import parse_setting_date, setting_day
from tap_adroll.writer import CheckpointFlushingWriter

SECRET_SETTINGS = ("personal_access_token", "access_token", "refresh_token", "client_secret")


class _OneLineErrors(SingerCommand):
    """Known failures (API answers, bad settings found late) end in one log line, without a traceback."""

    EXPECTED = (FatalAPIError, RetriableAPIError, requests.RequestException, ConfigValidationError)

    def excepthook(self, exc_type, exc_value, exc_traceback) -> None:  # noqa: ANN001
        if issubclass(exc_type, self.EXPECTED):
            self.logger.error("%s", exc_value)
            return
        super().excepthook(exc_type, exc_value, exc_traceback)


class TapAdRoll(Tap):
    """Singer tap for the AdRoll CRUD API v1."""

    name = "tap-adroll"
    package_name = "adtech-tap-adroll"
    message_writer_class = CheckpointFlushingWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key", th.StringType, required=True, title="API key (client ID)",
            description="The application's client ID from the NextRoll developer site, sent as the apikey query parameter",
        ),
        th.Property(
            "personal_access_token", th.StringType, secret=True, title="Personal access token",
            description="Sent as 'Authorization: Token <PAT>'; one auth method (this, or the OAuth tokens) is required",
        ),
        th.Property(
            "access_token", th.StringType, secret=True, title="OAuth access token",
            description="OAuth 2 access token, sent as 'Authorization: Bearer'; renewed with refresh_token when it expires",
        ),
        th.Property(
            "refresh_token", th.StringType, secret=True, title="OAuth refresh token",
            description="OAuth 2 refresh token (single-use: each refresh returns a new one, see oauth_token_file)",
        ),
        th.Property(
            "client_secret", th.StringType, secret=True, title="OAuth client secret",
            description="The application's client secret, used with api_key to refresh OAuth tokens",
        ),
        th.Property(
            "oauth_token_file", th.StringType, title="OAuth token file",
            description=(
                "Where the tap keeps the latest OAuth access and refresh tokens between runs (JSON, mode 0600, "
                "rewritten after every refresh); without it a rotated refresh token is lost when the run ends"
            ),
        ),
        th.Property(
            "start_date", th.DateTimeType, required=True, title="Start date",
            description="First report day to extract on a first run (a date is midnight UTC)",
        ),
        th.Property(
            "end_date", th.DateTimeType, title="End date",
            description="Extract report days before this day (exclusive; default: today, so whole days only)",
        ),
        th.Property(
            "lookback_window_days", th.IntegerType(minimum=0), default=3, title="Lookback window (days)",
            description="Days before the bookmark that every incremental run extracts again (AdRoll restates recent days)",
        ),
        th.Property(
            "api_url", th.StringType, default="https://services.adroll.com", title="API URL",
            description="Base URL of the AdRoll API; the CRUD endpoints are under {api_url}/api/v1/",
        ),
        th.Property(
            "request_timeout", th.IntegerType(minimum=1), default=300, title="Request timeout (seconds)",
            description="Seconds to wait for an answer before the request counts as failed (and is retried)",
        ),
        th.Property(
            "organization_eid", th.StringType, title="Organization EID",
            description="Organization to extract (default: the credentials' organization)",
        ),
        th.Property(
            "advertisable_eids", th.ArrayType(th.StringType), title="Advertisable EIDs",
            description="Advertisables to extract (default: every advertisable of the organization)",
        ),
        th.Property(
            "currency", th.StringType, default="USD", title="Currency",
            description="ISO 4217 currency of money in reports, sent as currency on report requests",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.request_counts: collections.Counter[str] = collections.Counter()
        super().__init__(*args, **kwargs)

    @classmethod
    def get_singer_command(cls) -> SingerCommand:
        command = super().get_singer_command()
        command.__class__ = _OneLineErrors
        return command

    # ------------------------------------------------------------------ settings

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The JSON-schema checks (worded without values: some settings are secrets), then what a schema cannot say."""
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)
        errors = _schema_errors(schema, dict(self.config))
        errors += _setting_errors(self.config)
        if errors and raise_errors:
            raise ConfigValidationError(errors[0], errors=errors)
        return errors

    # ------------------------------------------------------------------ shared by the streams

    @cached_property
    def authenticator(self) -> AdRollAuthenticator:
        config = self.config
        if config.get("personal_access_token"):
            return PersonalAccessTokenAuthenticator(api_key=config["api_key"], token=config["personal_access_token"])
        return OAuthRefreshAuthenticator(
            api_key=config["api_key"],
            token_endpoint=f"{str(config['api_url']).rstrip('/')}/auth/token",
            access_token=config.get("access_token"),
            refresh_token=config.get("refresh_token"),
            client_secret=config.get("client_secret"),
            token_file=config.get("oauth_token_file"),
            on_request=lambda: self.count_request("oauth_token"),
        )

    def count_request(self, stream_name: str) -> None:
        self.request_counts[stream_name] += 1

    @cached_property
    def organization(self) -> dict:
        """The organization record (one ``organization/get`` per run)."""
        return streams.OrganizationStream(self).fetch()

    @cached_property
    def advertisables(self) -> list[dict]:
        """The advertisables to extract (one ``organization/get_advertisables`` per run)."""
        found = streams.AdvertisablesStream(self).fetch()
        wanted = self.config.get("advertisable_eids")
        if not wanted:
            return found
        by_eid = {advertisable["eid"]: advertisable for advertisable in found}
        unknown = [eid for eid in wanted if eid not in by_eid]
        if unknown:
            msg = (
                f"advertisable_eids: {', '.join(unknown)} not among the organization's advertisables "
                f"({', '.join(by_eid) or 'none'})"
            )
            raise ConfigValidationError(msg, errors=[msg])
        return [by_eid[eid] for eid in wanted]

    @cached_property
    def advertisable_eids(self) -> list[str]:
        """The EIDs the reports ask for: the setting as given (no request), or every advertisable."""
        return list(self.config.get("advertisable_eids") or [a["eid"] for a in self.advertisables])

    @cached_property
    def organization_eid(self) -> str:
        """The report partition: the setting, or whatever lookup this run already made (or the cheapest one)."""
        if self.config.get("organization_eid"):
            return self.config["organization_eid"]
        if "organization" in self.__dict__:
            return self.organization["eid"]
        if "advertisables" in self.__dict__ or not self.config.get("advertisable_eids"):
            for advertisable in self.advertisables:
                if advertisable.get("organization"):
                    return advertisable["organization"]
        return self.organization["eid"]

    # ------------------------------------------------------------------ streams and sync

    def discover_streams(self) -> list[streams.AdRollStream]:
        return [stream_type(self) for stream_type in streams.STREAM_TYPES]

    def sync_all(self) -> None:
        """Sync, then log the requests each stream made. On a failure, first emit the state reached:
        report bookmarks stand at the last complete day, so the next run resumes there."""
        try:
            super().sync_all()
        except BaseException:
            for stream in self.streams.values():
                if isinstance(stream, streams.ReportStream) and stream.started:
                    try:
                        # Drop the run-only markers (per partition, then the stream's signpost); writes STATE.
                        stream.finalize_state_progress_markers()
                        stream.finalize_state_progress_markers(stream.stream_state)
                    except Exception:  # noqa: BLE001 - the original failure is the one to report
                        self.logger.warning("Could not tidy the state of '%s' after the failure", stream.name)
            self._state_writer.write_state(self.state)
            raise
        finally:
            self.message_writer.flush()  # records after the last STATE of a failed stream, as the SDK would
            self.log_request_counts()

    def log_request_counts(self) -> None:
        counts = ", ".join(f"{name}={count}" for name, count in sorted(self.request_counts.items())) or "none"
        self.logger.info("AdRoll requests this run: %d (%s)", sum(self.request_counts.values()), counts)


def _schema_errors(schema: dict, config: dict) -> list[str]:
    """Schema violations as ``<setting>: <problem>``, never quoting a value."""
    from jsonschema import Draft7Validator  # noqa: PLC0415 - jsonschema comes with singer-sdk

    errors = []
    for error in Draft7Validator(schema).iter_errors(config):
        if error.validator == "required":
            match = re.search(r"'([^']+)' is a required property", error.message)
            errors.append(f"{match.group(1) if match else 'a setting'}: is required")
            continue
        setting = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(error.path))
        setting = setting or "config"
        if error.validator == "type":
            expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
            problem = f"must be of type {' or '.join(str(e) for e in expected if e != 'null')}"
        elif error.validator == "format":
            problem = f"must be a {error.validator_value} (e.g. 2025-01-31 or 2025-01-31T00:00:00Z)"
        elif error.validator == "minimum":
            problem = f"must be at least {error.validator_value}"
        else:
            problem = f"fails the '{error.validator}' rule"
        errors.append(f"{setting}: {problem}")
    return errors


def _setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    errors, days = [], {}
    for setting in ("start_date", "end_date"):
        value = config.get(setting)
        if value is None:
            continue
        try:
            days[setting] = setting_day(parse_setting_date(str(value)))
        except ValueError:
            errors.append(f"{setting}: {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time")
    if len(days) == 2 and days["end_date"] < days["start_date"]:
        errors.append(f"end_date: {config['end_date']} is before start_date {config['start_date']}")
    if not any(config.get(name) for name in ("personal_access_token", "access_token", "refresh_token")):
        errors.append(
            "personal_access_token: no auth method configured: set personal_access_token, or access_token "
            "and/or refresh_token with client_secret (OAuth)"
        )
    if config.get("refresh_token") and not config.get("personal_access_token") and not config.get("client_secret"):
        errors.append("client_secret: is required with refresh_token (to renew OAuth access tokens)")
    currency = config.get("currency")
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", str(currency)):
        errors.append(f"currency: {currency!r} is not an ISO 4217 code (e.g. USD)")
    if config.get("api_url") is not None and not re.match(r"https?://", str(config["api_url"])):
        errors.append(f"api_url: {config['api_url']!r} is not an http(s) URL")
    return errors
