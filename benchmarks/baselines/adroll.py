"""Bare baseline for tap-adroll: the same HTTP requests, each row written as a Singer RECORD, no SDK.

    python benchmarks/baselines/adroll.py CONFIG.json STREAM

One report request per day for every advertisable at once, as the tap makes them.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import requests

KINDS = {"ad_report": "ad", "campaign_report": "campaign", "advertisable_report": "advertisable"}


def main(config_path: str, stream: str) -> None:
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    base = f"{config['api_url'].rstrip('/')}/api/v1"
    session = requests.Session()
    session.params = {"apikey": config["api_key"]}
    session.headers["Authorization"] = f"Token {config['personal_access_token']}"
    session.get(f"{base}/organization/get").json()
    advertisables = [a["eid"] for a in session.get(f"{base}/organization/get_advertisables").json()["results"]]
    currency = config.get("currency", "USD")
    day, end = dt.date.fromisoformat(config["start_date"]), dt.date.fromisoformat(config["end_date"])
    write = sys.stdout.write
    while day < end:
        params = {"data_format": "entity", "start_date": day.strftime("%m-%d-%Y"), "end_date": day.strftime("%m-%d-%Y"),
                  "currency": currency, "advertisables": ",".join(advertisables)}
        stamp = {"date": f"{day.isoformat()}T00:00:00+00:00", "currency": currency}
        for row in session.get(f"{base}/report/{KINDS[stream]}", params=params).json()["results"]:
            write(json.dumps({"type": "RECORD", "stream": stream, "record": {**row, **stamp}}, separators=(",", ":")) + "\n")
        day += dt.timedelta(days=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
