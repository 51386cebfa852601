"""The sources of the root project, as the cross-tap tests see them: how to point each tap at its
emulator, and where its spend lands in the warehouse."""

from __future__ import annotations

import dataclasses
import json
import typing as t


@dataclasses.dataclass(frozen=True)
class Source:
    tap: str
    provider: str  # its emulator, a key of emulators.PROVIDERS
    settings: t.Callable[[str, str, str], dict]  # (emulator URL, start date, end date) -> tap config
    spend_table: str
    spend: str
    day: str
    partition: str
    keys: tuple[str, ...]

    @property
    def schema(self) -> str:
        return self.tap.replace("-", "_")

    def env(self, config: dict) -> dict[str, str]:
        """The config as the environment variables Meltano reads (TAP_X_SETTING)."""
        prefix = self.tap.upper().replace("-", "_")
        return {f"{prefix}_{name.upper()}": value if isinstance(value, str) else json.dumps(value) for name, value in config.items()}


def _rokt(url: str, start: str, end: str) -> dict:
    return {"api_url": url, "app_id": "demo-app-id", "app_secret": "demo-app-secret", "start_date": start, "end_date": end}


def _adroll(url: str, start: str, end: str) -> dict:
    return {"api_url": url, "api_key": "demo-client-id", "personal_access_token": "demo-personal-access-token",
            "start_date": start, "end_date": end}


def _mediamath(url: str, start: str, end: str) -> dict:
    return {
        "api_url": f"{url}/reporting/v2", "auth_url": f"{url}/oauth/token", "client_id": "demo-client-id",
        "client_secret": "demo-client-secret", "username": "demo@example.com", "password": "demo-password",
        "organization_id": 100001, "start_date": start, "end_date": end,
    }


SOURCES = [
    Source("tap-rokt", "rokt", _rokt, "campaign_report", "gross_cost", "datetime", "account_id", ("account_id", "datetime", "campaign_id")),
    Source("tap-adroll", "adroll", _adroll, "advertisable_report", "cost", "date", "eid", ("eid", "date")),
    Source("tap-mediamath", "mediamath", _mediamath, "performance", "total_spend", "agg_timestamp", "campaign_id",
           ("organization_id", "agg_timestamp", "campaign_id", "strategy_id")),
]
BY_TAP = {source.tap: source for source in SOURCES}
