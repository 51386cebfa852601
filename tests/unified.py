"""The unified ad_reporting tables (transform/) as the cross-tap tests check them: per level, the report stream of
each platform that feeds it, its totals per platform, source (the schema a login landed in), day and currency from a
tap's own output, the same from the warehouse, and what dbt's last run reports."""

from __future__ import annotations

import collections
import dataclasses
import json
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

SCHEMA = "ad_reporting"


@dataclasses.dataclass(frozen=True)
class ReportStream:
    """A source report stream: its primary key, report day and currency, and the columns feeding the metrics."""

    stream: str
    keys: tuple[str, ...]
    day: str
    currency: str
    spend: str
    impressions: str
    clicks: str
    spend_usd: str | None = None  # a column of spend in USD; without it, spend counts as USD when reported in USD


ROKT_CAMPAIGNS = ReportStream("campaign_report", ("account_id", "datetime", "campaign_id"), "datetime", "currency_code",
                              "gross_cost", "impressions", "referrals")
MEDIAMATH = ReportStream("performance", ("organization_id", "agg_timestamp", "campaign_id", "strategy_id"), "agg_timestamp",
                         "campaign_currency_code", "total_spend", "impressions", "clicks", spend_usd="total_spend_usd")


def _adroll(stream: str) -> ReportStream:
    return ReportStream(stream, ("eid", "date"), "date", "currency", "cost", "impressions", "clicks")


PLATFORMS = {"tap-rokt": "rokt", "tap-adroll": "adroll", "tap-mediamath": "mediamath"}
# level -> tap -> the report stream its rows come from; a tap missing from a level has no rows there.
LEVELS: dict[str, dict[str, ReportStream]] = {
    "account": {"tap-rokt": ROKT_CAMPAIGNS, "tap-adroll": _adroll("advertisable_report"), "tap-mediamath": MEDIAMATH},
    "campaign": {"tap-rokt": ROKT_CAMPAIGNS, "tap-adroll": _adroll("campaign_report"), "tap-mediamath": MEDIAMATH},
    "ad_group": {"tap-adroll": _adroll("ad_report"), "tap-mediamath": MEDIAMATH},
    "ad": {"tap-adroll": _adroll("ad_report")},
}
# The grain of each table: one row per these columns (stricter than the dbt tests' keys, which add parent ids).
GRAIN = {
    "account": ("source_relation", "date_day", "platform", "account_id", "currency"),
    "campaign": ("source_relation", "date_day", "platform", "campaign_id"),
    "ad_group": ("source_relation", "date_day", "platform", "ad_group_id"),
    "ad": ("source_relation", "date_day", "platform", "ad_id"),
}

# (platform, source_relation, day, currency) -> (spend, spend_usd, impressions, clicks)
Totals = dict[tuple[str, str, str, str], tuple[Decimal, Decimal | None, int, int]]


def _exact(value) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value or 0)


def expected(tap: str, records_of, schema: str | None = None) -> dict[str, Totals]:
    """Per level, one tap's totals per platform, source, day and currency, from its RECORD payloads
    (``records_of(stream)``), keeping the last row of each primary key as the loaders' upserts do. The source is the
    schema the rows land in: the tap's namespace unless given."""
    source_relation = schema or tap.replace("-", "_")
    out: dict[str, Totals] = {}
    for level, streams in LEVELS.items():
        if tap not in streams:
            continue
        report = streams[tap]
        rows = {tuple(row[key] for key in report.keys): row for row in records_of(report.stream)}
        sums: dict[tuple[str, str, str, str], list] = collections.defaultdict(lambda: [Decimal(0), Decimal(0), 0, 0])
        for row in rows.values():
            acc = sums[(PLATFORMS[tap], source_relation, row[report.day][:10], row[report.currency])]
            acc[0] += _exact(row[report.spend])
            acc[1] += _exact(row[report.spend_usd]) if report.spend_usd else _exact(row[report.spend])
            acc[2] += int(_exact(row[report.impressions]))
            acc[3] += int(_exact(row[report.clicks]))
        out[level] = {
            key: (spend, spend_usd if report.spend_usd or key[3] == "USD" else None, impressions, clicks)
            for key, (spend, spend_usd, impressions, clicks) in sums.items()
        }
    return out


def merged(per_tap: list[dict[str, Totals]]) -> dict[str, Totals]:
    """The taps' expected totals as one mapping per level."""
    out: dict[str, Totals] = {level: {} for level in LEVELS}
    for totals in per_tap:
        for level, by_day in totals.items():
            out[level].update(by_day)
    return out


def landed(query) -> dict[str, Totals]:
    """Per level, the unified table's totals per platform, source, day and currency, from the warehouse."""
    out: dict[str, Totals] = {}
    for level in LEVELS:
        rows = query(
            f"select platform, source_relation, cast(date_day as varchar), currency, sum(spend), sum(spend_usd), "
            f"sum(impressions), sum(clicks) from {SCHEMA}.ad_reporting__{level}_report group by 1, 2, 3, 4"
        )
        out[level] = {
            (platform, source, day, currency): (Decimal(spend), None if usd is None else Decimal(usd), int(impressions), int(clicks))
            for platform, source, day, currency, spend, usd, impressions, clicks in rows
        }
    return out


def duplicate_keys(query) -> dict[str, int]:
    """Per level, rows beyond the first of each grain key (nulls counting as equal, as in GROUP BY)."""
    out = {}
    for level, keys in GRAIN.items():
        columns = ", ".join(keys)
        table = f"{SCHEMA}.ad_reporting__{level}_report"
        out[level] = query(f"select (select count(*) from {table}) - (select count(*) from (select {columns} from {table} "
                           f"group by {columns}) as per_key)")[0][0]
    return out


def dbt_results(target_path: Path) -> dict[str, dict[str, int]]:
    """What the last dbt build did, from its run_results.json: per resource type (model, test), a count per status."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for result in results:
        out[result["unique_id"].split(".")[0]][result["status"]] += 1
    return {kind: dict(counts) for kind, counts in out.items()}


NULLABLE = ("account_name", "campaign_name", "ad_group_name", "ad_name", "report_timezone", "conversions", "conversions_value")


def null_columns(query) -> dict[str, dict[tuple[str, str], str]]:
    """Per level, the (platform, column) pairs of NULLABLE columns that hold nulls: "all" rows or only "some"."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for level in LEVELS:
        table = f"{SCHEMA}.ad_reporting__{level}_report"
        columns = [c for c in NULLABLE if not c.endswith("_name") or c[: -len("_name")] in _levels_up_to(level)]
        counts = ", ".join(f"count({column})" for column in columns)
        found = {}
        for platform, rows, *present in query(f"select platform, count(*), {counts} from {table} group by platform"):
            for column, count in zip(columns, present, strict=False):
                if count < rows:
                    found[(platform, column)] = "all" if count == 0 else "some"
        out[level] = found
    return out


def _levels_up_to(level: str) -> list[str]:
    order = list(LEVELS)
    return order[: order.index(level) + 1]
