#!/usr/bin/env python3
"""Build the MediaMath field catalog from the Reporting API v2 OpenAPI file.

The API has no metadata endpoint: each dataset's fields are a markdown table in the description
of its path (``| `field`<br>Label | Time Windows | Rollups |`` under ``**Dimensions**`` and
``**Metrics**`` rows). This script turns those tables into ``tap_mediamath/fields.json``: for each
dataset its fields (dimension or metric, JSON type and format, label, rollup restrictions) and the
dataset's pageability, time windows, rollups and time zones.

Usage (from the repository root):

    python tap-mediamath/scripts/build_field_catalog.py \
        ../shared/api-docs/mediamath-reporting-api-v2-openapi.yaml \
        --out tap-mediamath/tap_mediamath/fields.json \
        --out emulators/mediamath_fields.json

Type rules (the tables carry no types): ``agg_timestamp`` and creation/update/start/end dates are
``date-time`` strings; ``*_id`` fields are integers (except the few ids that are external strings);
yes/no attributes are booleans; money, bid, budget and duration attributes are numbers; other
dimensions are strings; every metric is a number.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

STRING_IDS = {"app_id", "deal_external_id", "creative_tpas_placement_id", "prisma_campaign_id", "postal_code_id"}
DATETIME_SUFFIXES = ("_created_on", "_updated_on", "_start_date", "_end_date", "_date_campaign_tz")
BOOLEAN_PATTERNS = (
    r"_archived$",
    r"(^|_)is_",
    r"(^|_)has_",
    r"_use_",
    r"_automatic$",
    r"_eligible$",
    r"_political$",
    r"_currency_fixed$",
    r"_rmx_friendly$",
    r"_rmx_merit$",
)
NUMBER_PATTERNS = (
    r"_amount$",
    r"_budget$",
    r"_goal_value$",
    r"_max_bid(_wm)?$",
    r"_min_bid$",
    r"_pct$",
    r"_minutes$",
    r"_roi_target$",
    r"_daily_cap$",
    r"^pixel_cost_",
    r"^mean$",
    r"^bid_impact$",
    r"^bid_price_impact$",
    r"_provider_tax$",
)
INTEGER_DIMENSIONS = {"index", "position", "frequency", "referrer_rank", "campaign_io_reference_num"}


def field_type(name: str, kind: str) -> dict:
    """The JSON schema type of a field, from its name and kind."""
    if kind == "metric":
        return {"type": "number"}
    if (
        name == "agg_timestamp"
        or name.endswith(DATETIME_SUFFIXES)
        or name
        in {
            "campaign_initial_start_date",
            "campaign_start_date",
            "campaign_end_date",
            "strategy_start_date",
            "strategy_end_date",
        }
    ):
        return {"type": "string", "format": "date-time"}
    if name.endswith("_id") and name not in STRING_IDS:
        return {"type": "integer"}
    if name in INTEGER_DIMENSIONS:
        return {"type": "integer"}
    if any(re.search(p, name) for p in BOOLEAN_PATTERNS):
        return {"type": "boolean"}
    if any(re.search(p, name) for p in NUMBER_PATTERNS):
        return {"type": "number"}
    return {"type": "string"}


def _code_list(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _section(description: str, title: str) -> str:
    match = re.search(rf"^### {re.escape(title)}\s*\n(.*?)(?=^###|\Z)", description, re.DOTALL | re.MULTILINE)
    return match.group(1).strip() if match else ""


def parse_dataset(description: str) -> dict:
    fields: dict[str, dict] = {}
    kind = None
    for line in description.splitlines():
        if line.startswith("|**Dimensions**"):
            kind = "dimension"
        elif line.startswith("|**Metrics**"):
            kind = "metric"
        elif line.startswith("|`") and kind:
            cells = line.split("|")
            head = cells[1]
            name = _code_list(head)[0]
            label = head.split("<br>", 1)[1].strip() if "<br>" in head else ""
            entry = {"kind": kind, **field_type(name, kind), "label": label}
            windows, rollups = cells[2].strip(), cells[3].strip()
            if windows != "Any":
                entry["time_windows"] = _code_list(windows)
            if rollups != "Any":
                entry["rollups"] = _code_list(rollups)
            fields[name] = entry
    pageable = _section(description, "Pageable").lower().startswith("yes")
    note = re.search(r"\*\*NOTE: (.*?)\*\*", description)
    return {
        "summary": description.strip().splitlines()[0].strip(),
        "pageable": pageable,
        "time_windows": _code_list(_section(description, "Time Windows")),
        "rollups": _code_list(_section(description, "Rollups")),
        "time_zones": _code_list(_section(description, "Time Zones")),
        "retention": _section(description, "Data Retention / Lookback Window"),
        "note": note.group(1) if note else "",
        "fields": fields,
    }


def build(openapi_path: Path) -> dict:
    spec = yaml.safe_load(openapi_path.read_text())
    datasets = {}
    for path, item in sorted(spec["paths"].items()):
        operation = item.get("post")
        if not operation:
            continue
        entry = parse_dataset(operation.get("description", ""))
        entry["title"] = operation.get("summary", "")
        datasets[path.strip("/")] = entry
    return {
        "source": openapi_path.name,
        "api_version": spec.get("info", {}).get("version", ""),
        "datasets": datasets,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("openapi", type=Path, help="path of mediamath-reporting-api-v2-openapi.yaml")
    parser.add_argument("--out", type=Path, action="append", required=True, help="catalog file to write (repeatable)")
    args = parser.parse_args(argv)
    catalog = build(args.openapi)
    text = json.dumps(catalog, indent=1, sort_keys=True) + "\n"
    for out in args.out:
        out.write_text(text)
    counts = ", ".join(f"{name}: {len(d['fields'])}" for name, d in catalog["datasets"].items())
    print(f"{len(catalog['datasets'])} datasets ({counts})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
