"""Bare baseline for tap-rokt: the same HTTP requests, each row written as a Singer RECORD, no SDK.

    python benchmarks/baselines/rokt.py CONFIG.json STREAM
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys

import requests

BUILT_IN = {"campaign_report": ("campaigns", ["campaign_id"]), "transaction_report": ("transactions", [])}


def main(config_path: str, stream: str) -> None:
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    custom = {r["name"]: (r["report"], r.get("dimensions") or []) for r in config.get("reports") or []}
    report, dimensions = {**BUILT_IN, **custom}[stream]
    url = config["api_url"].rstrip("/")
    session = requests.Session()
    basic = base64.b64encode(f"{config['app_id']}:{config['app_secret']}".encode()).decode()
    token = session.post(f"{url}/auth/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                         data={"grant_type": "client_credentials"}).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    accounts = session.get(f"{url}/v1/query/accounts").json()
    for kind in ("campaigns", "transactions"):  # the tap reads both help listings to build its catalog
        for account in accounts:
            session.get(f"{url}/v1/query/accounts/{account['accountId']}/{kind}/help")
    start, end = dt.date.fromisoformat(config["start_date"]), dt.date.fromisoformat(config["end_date"])
    write = sys.stdout.write
    for account in accounts:
        account_id = account["accountId"]
        metrics = [m["slug"] for m in session.get(f"{url}/v1/query/accounts/{account_id}/{report}/help").json()["metrics"]]
        stamp = {"account_id": account_id, "timezone": account["accountTimezone"], "currency_code": account["accountCurrencyCode"]}
        day = start
        while day < end:
            until = min(day + dt.timedelta(days=31), end)
            body = {"timezoneVariation": stamp["timezone"], "currencyCode": stamp["currency_code"], "interval": "day",
                    "startDate": day.isoformat(), "endDate": until.isoformat(), "metrics": metrics, "limit": 10000}
            if dimensions:
                body["dimensions"] = dimensions
            path = f"/v1/query/accounts/{account_id}/{report}" + ("/" if report == "campaigns" else "")
            for row in session.post(f"{url}{path}", json=body).json()["data"]:
                write(json.dumps({"type": "RECORD", "stream": stream, "record": {**row, **stamp}}, separators=(",", ":")) + "\n")
            day = until


if __name__ == "__main__":
    main(*sys.argv[1:])
