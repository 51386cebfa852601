"""tap-adroll: the AdRoll (NextRoll) CRUD API v1 as a Singer tap (entities and daily reports)."""

from __future__ import annotations

import re
import typing as t
from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from typing_extensions import override

from . import streams
from .auth import AdRollOAuthAuthenticator, PersonalAccessTokenAuthenticator
from .cli import OneLineErrorCommand
from .lookups import AdRollLookups
from .settings import CheckedSettingsTap
from .writer import CheckpointFlushingWriter

if t.TYPE_CHECKING:
    import click


class TapAdRoll(CheckedSettingsTap):
    """Singer tap for the AdRoll CRUD API v1."""

    name = "tap-adroll"
    package_name = "adtech-tap-adroll"
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
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            title="API key (client ID)",
            description="The application's client ID from the NextRoll developer site, sent as the apikey query parameter",
        ),
        th.Property(
            "personal_access_token",
            th.StringType,
            secret=True,
            title="Personal access token",
            description="Sent as 'Authorization: Token <PAT>'; one auth method (this, or the OAuth tokens) is required",
        ),
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            title="OAuth access token",
            description="OAuth 2 access token, sent as 'Authorization: Bearer'; renewed with refresh_token when it expires",
        ),
        th.Property(
            "refresh_token",
            th.StringType,
            secret=True,
            title="OAuth refresh token",
            description="OAuth 2 refresh token (single-use: each refresh returns a new one, see oauth_token_file)",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            title="OAuth client secret",
            description="The application's client secret, used with api_key to refresh OAuth tokens",
        ),
        th.Property(
            "oauth_token_file",
            th.StringType,
            title="OAuth token file",
            description=(
                "Where the tap keeps the latest OAuth access and refresh tokens between runs (JSON, mode 0600, "
                "rewritten after every refresh); without it a rotated refresh token is lost when the run ends"
            ),
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            required=True,
            title="Start date",
            description=(
                "First report day to extract on a first run. Its calendar date names the report day (AdRoll report "
                "days are UTC days); a time of day or an offset in the setting is ignored"
            ),
        ),
        th.Property(
            "end_date",
            th.DateTimeType,
            title="End date",
            description=(
                "First report day not to extract, named by its calendar date as start_date is. Default: today (UTC), so only whole days"
            ),
        ),
        th.Property(
            "lookback_window_days",
            th.IntegerType(minimum=0),
            default=3,
            title="Lookback window (days)",
            description="Days before the bookmark that every incremental run extracts again (AdRoll restates recent days)",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://services.adroll.com",
            title="API URL",
            description="Base URL of the AdRoll API; the CRUD endpoints are under {api_url}/api/v1/",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=300,
            title="Request timeout (seconds)",
            description="Seconds to wait for an answer before the request counts as failed (and is retried)",
        ),
        th.Property(
            "organization_eid",
            th.StringType,
            title="Organization EID",
            description="Organization to extract (default: the credentials' organization)",
        ),
        th.Property(
            "advertisable_eids",
            th.ArrayType(th.StringType),
            title="Advertisable EIDs",
            description="Advertisables to extract (default: every advertisable of the organization)",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType(minimum=1, maximum=32),
            title="Requests in flight",
            default=4,
            description=(
                "API requests a stream keeps in flight at once (the report days and every advertisable's listings);"
                " 1 makes them one after another. Never more requests in all: the day's quota counts the same"
            ),
        ),
        th.Property(
            "currency",
            th.StringType,
            default="USD",
            title="Currency",
            description="ISO 4217 currency of money in reports, sent as currency on report requests",
        ),
    ).to_dict()

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        return OneLineErrorCommand.from_command(super().get_singer_command(), cls.logger)

    @override
    def setting_errors(self, config: t.Mapping[str, t.Any]) -> list[str]:
        """Beyond the dates: one auth method, the OAuth pieces it needs, the currency and the URL."""
        errors = super().setting_errors(config)
        if not any(config.get(name) for name in ("personal_access_token", "access_token", "refresh_token")):
            errors.append(
                "personal_access_token: no auth method configured: set personal_access_token, or access_token "
                "and/or refresh_token with client_secret (OAuth)"
            )
        if config.get("refresh_token") and not config.get("personal_access_token") and not config.get("client_secret"):
            errors.append("client_secret: is required with refresh_token (to renew OAuth access tokens)")
        if not re.fullmatch(r"[A-Z]{3}", str(config["currency"])):
            errors.append(f"currency: {config['currency']!r} is not an ISO 4217 code (e.g. USD)")
        if not re.match(r"https?://", str(config["api_url"])):
            errors.append(f"api_url: {config['api_url']!r} is not an http(s) URL")
        return errors

    # ------------------------------------------------------------------ what the streams share

    @cached_property
    def lookups(self) -> AdRollLookups:
        """The credentials, the requests in flight, the organization and its advertisables, shared by every stream."""
        return AdRollLookups(
            self.config,
            self._authenticator,
            lambda: streams.OrganizationStream(self, self.lookups).fetch(),
            lambda: streams.AdvertisablesStream(self, self.lookups).fetch(),
        )

    def _authenticator(self) -> PersonalAccessTokenAuthenticator | AdRollOAuthAuthenticator:
        config = self.config
        if config.get("personal_access_token"):
            return PersonalAccessTokenAuthenticator(api_key=config["api_key"], token=config["personal_access_token"])
        return AdRollOAuthAuthenticator(
            api_key=config["api_key"],
            token_endpoint=f"{str(config['api_url']).rstrip('/')}/auth/token",
            access_token=config.get("access_token"),
            refresh_token=config.get("refresh_token"),
            client_secret=config.get("client_secret"),
            token_file=config.get("oauth_token_file"),
        )

    # ------------------------------------------------------------------ streams

    @override
    def discover_streams(self) -> list[streams.AdRollStream]:
        return [stream_type(self, self.lookups) for stream_type in streams.STREAM_TYPES]
