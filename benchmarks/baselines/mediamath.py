"""Bare baseline for tap-mediamath: the same HTTP requests, each row written as a Singer RECORD, no SDK.

    python benchmarks/baselines/mediamath.py CONFIG.json STREAM

Streaming mode: one POST per window (report_window_days, 31 by default as in the tap), the JSON-lines answer read
line by line.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import requests

# The performance stream's fields, as tap-mediamath sends them (organization_id first).
PERFORMANCE_FIELDS = [
    "organization_id", "organization_name", "agency_id", "agency_name", "advertiser_id", "advertiser_name",
    "campaign_id", "campaign_name", "strategy_id", "strategy_name", "campaign_currency_code",
    "impressions", "clicks", "post_click_conversions", "post_view_conversions", "total_conversions",
    "total_spend", "total_spend_usd", "total_revenue", "total_revenue_usd",
]


def main(config_path: str, stream: str) -> None:
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    custom = {r["name"]: (r["dataset"], ["organization_id", *r["fields"]]) for r in config.get("reports") or []}
    dataset, fields = {"performance": ("performance", PERFORMANCE_FIELDS), **custom}[stream]
    session = requests.Session()
    grant = {"grant_type": "password", "username": config["username"], "password": config["password"],
             "client_id": config["client_id"], "client_secret": config["client_secret"],
             "audience": config.get("audience", "https://api.mediamath.com/")}
    token = session.post(config["auth_url"], data=grant).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    start, end = dt.date.fromisoformat(config["start_date"]), dt.date.fromisoformat(config["end_date"])
    window_days = config.get("report_window_days", 31)  # the tap's default
    write = sys.stdout.write
    day = start
    while day < end:
        until = min(day + dt.timedelta(days=window_days), end)
        body = {"fields": fields, "filters": [{"field": "organization_id", "op": "=", "value": config["organization_id"]}],
                "rollup": "by_day", "start_time": f"{day.isoformat()}T00:00:00Z", "end_time": f"{until.isoformat()}T00:00:00Z",
                "order": [{"field": "agg_timestamp", "desc": False}]}
        with session.post(f"{config['api_url'].rstrip('/')}/{dataset}", json=body, stream=True) as answer:
            lines = answer.iter_lines(chunk_size=65536)
            next(lines)  # the header
            for line in lines:
                row = json.loads(line)
                if "meta" not in row:
                    write(json.dumps({"type": "RECORD", "stream": stream, "record": row}, separators=(",", ":")) + "\n")
        day = until


if __name__ == "__main__":
    main(*sys.argv[1:])
