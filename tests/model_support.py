"""Shared by the unified model's tests (test_model_*.py): dbt run from Meltano on a scratch warehouse, what its
freshness check and documentation report, and raw AdRoll ads in both shapes the API sends, loaded by the real
loaders."""

from __future__ import annotations

import json
import subprocess
import typing as t

import unified
from conftest import ROOT, Meltano

if t.TYPE_CHECKING:
    from pathlib import Path

# The four unified tables' dbt results on a build: every model built, every test passed.
BUILT = {"model": {"success": 14}, "test": {"pass": 47}}
UNIFIED_TABLES = [f"ad_reporting__{level}_report" for level in unified.LEVELS]


def dbt(meltano: Meltano, utility: str, args: list[str], target: Path, env: dict[str, str] | None = None,
        variables: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """``meltano invoke <utility> <args>`` (``--vars`` when given), its artifacts written to ``target``."""
    (target / "run_results.json").unlink(missing_ok=True)
    (target / "sources.json").unlink(missing_ok=True)
    extra = ["--vars", json.dumps(variables)] if variables else []
    setting = f"{utility.upper().replace('-', '_')}_TARGET_PATH"
    return meltano("invoke", utility, *args, *extra, env={**(env or {}), setting: str(target)}, check=check)


def json_of(path: Path) -> dict:
    return json.loads(path.read_text())


def freshness(target: Path) -> dict[str, str]:
    """Per source table (``tap_x.table``), the status of the last ``dbt source freshness`` (pass, warn, error)."""
    results = json.loads((target / "sources.json").read_text())["results"]
    return {".".join(result["unique_id"].split(".")[-2:]): result["status"] for result in results}


def landed_warnings(output: str) -> list[str]:
    """The warnings of a build about stream tables that have not landed, as printed."""
    return [line.split("Warning: ", 1)[1] for line in output.splitlines() if "Warning: " in line and "has not landed" in line]


# AdRoll ads as the API sends them: `adgroups` as EID strings (the docs), or as {id, status} objects (production).
# The ads: one in one ad group, one in two (no single ad group), one in none.
ADS = [("AD1", ["AG1"]), ("AD2", ["AG1", "AG2"]), ("AD3", [])]
AD_REPORT = [("AD1", "2025-03-01", 10.25, 100, 3), ("AD1", "2025-03-02", 1.5, 20, 1), ("AD2", "2025-03-01", 7.75, 50, 2)]


def _ads_schema(shape: str) -> dict:
    element = {"type": ["string", "null"]} if shape == "strings" else {
        "type": ["object", "null"], "properties": {"id": {"type": ["string", "null"]}, "status": {"type": ["string", "null"]}}}
    return {"type": "object", "properties": {
        "eid": {"type": "string"}, "name": {"type": ["string", "null"]}, "advertisable_eid": {"type": ["string", "null"]},
        "adgroups": {"type": ["array", "null"], "items": element}}}


_REPORT_SCHEMA = {"type": "object", "properties": {
    "eid": {"type": "string"}, "date": {"type": "string", "format": "date-time"}, "ad": {"type": ["string", "null"]},
    "currency": {"type": "string"}, "cost": {"type": ["number", "null"]}, "impressions": {"type": ["integer", "null"]},
    "clicks": {"type": ["integer", "null"]}}}


def adroll_messages(shape: str) -> str:
    """Singer messages of AdRoll's ads (ad groups as ``shape``: strings or objects) and its ad report."""
    messages: list[dict] = [{"type": "SCHEMA", "stream": "ads", "schema": _ads_schema(shape), "key_properties": ["eid"]}]
    for eid, groups in ADS:
        adgroups = groups if shape == "strings" else [{"id": group, "status": "active"} for group in groups]
        messages.append({"type": "RECORD", "stream": "ads",
                         "record": {"eid": eid, "name": f"Ad {eid}", "advertisable_eid": "ADV1", "adgroups": adgroups}})
    messages.append({"type": "SCHEMA", "stream": "ad_report", "schema": _REPORT_SCHEMA, "key_properties": ["eid", "date"]})
    for eid, day, cost, impressions, clicks in AD_REPORT:
        messages.append({"type": "RECORD", "stream": "ad_report", "record": {
            "eid": eid, "date": f"{day}T00:00:00+00:00", "ad": f"Ad {eid}", "currency": "USD", "cost": cost,
            "impressions": impressions, "clicks": clicks}})
    return "\n".join(json.dumps(message) for message in messages) + "\n"


def load_messages(meltano: Meltano, loader: str, schema: str, messages: str, env: dict[str, str] | None = None) -> None:
    """Singer messages through ``meltano invoke <loader>`` into ``schema``, as a tap's run would land them."""
    setting = f"{loader.upper().replace('-', '_')}_DEFAULT_TARGET_SCHEMA"
    done = subprocess.run(["meltano", "invoke", loader], cwd=ROOT, input=messages, capture_output=True, text=True,
                          env={**meltano.env, **(env or {}), setting: schema}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


# What the model must make of those ads, per shape: the ad group of the ad in one, null for the others; the ad
# group level sums the ad report under it (the ad in two ad groups under null, whole).
EXPECTED_AD_GROUPS = {"AD1": "AG1", "AD2": None, "AD3": None}
EXPECTED_AD_GROUP_SPEND = {"AG1": ("11.750000000", 120, 4), None: ("7.750000000", 50, 2)}


def adroll_shapes(query: t.Callable, schemas: list[str]) -> tuple[dict, dict]:
    """Per schema, each ad's ad group from the staging model, and spend, impressions, clicks per ad group from the
    unified ad group table."""
    ads = {schema: {} for schema in schemas}
    for source, ad, group in query("select source_relation, ad_id, ad_group_id from ad_reporting_staging.stg_adroll__ads"):
        ads[source][ad] = group
    groups = {schema: {} for schema in schemas}
    for source, group, spend, impressions, clicks in query(
        "select source_relation, ad_group_id, cast(sum(spend) as varchar), sum(impressions), sum(clicks) "
        "from ad_reporting.ad_reporting__ad_group_report group by 1, 2"
    ):
        groups[source][group] = (spend, int(impressions), int(clicks))
    return ads, groups
