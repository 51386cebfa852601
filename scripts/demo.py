"""The demo: every source, from its local emulator, into an embedded DuckDB warehouse, twice.

1. starts the emulators (`python -m emulators`) on the ports the `dev` environment of meltano.yml names;
2. clears the warehouse and the state, then runs the `ads-to-duckdb` job: a first, full run, whose last task builds
   and tests the unified ad_reporting tables (dbt, transform/);
3. prints what landed: per source, tables and rows, then date range and spend per account in its currency;
4. runs the job again: an incremental run, which re-reads only the lookback days and upserts them;
5. prints the unified campaign-level table's totals per platform, currency and month;
6. stops the emulators.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE = ROOT / "output" / "warehouse.duckdb"
DEMO_DAYS = 30
PORTS = {"rokt": 18101, "adroll": 18102, "mediamath": 18103}
UNIFIED_CAMPAIGNS = "ad_reporting.ad_reporting__campaign_report"


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a source's spend lands, for the summary."""

    provider: str  # the emulator it reads from
    tap: str
    schema: str
    spend_table: str
    account: str  # the column naming the account / advertisable / organization
    day: str
    spend: str
    currency: str


SOURCES = [
    Source("rokt", "tap-rokt", "tap_rokt", "campaign_report", "account_id", "datetime", "gross_cost", "currency_code"),
    Source("adroll", "tap-adroll", "tap_adroll", "advertisable_report", "eid", "date", "cost", "currency"),
    Source(
        "mediamath",
        "tap-mediamath",
        "tap_mediamath",
        "performance",
        "campaign_id",
        "agg_timestamp",
        "total_spend",
        "campaign_currency_code",
    ),
]


def main() -> int:
    os.chdir(ROOT)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # The date-time form most Meltano users write: the tap names report days by its calendar date.
    start_date = f"{(dt.date.today() - dt.timedelta(days=DEMO_DAYS)).isoformat()}T00:00:00Z"
    for source in SOURCES:
        env[f"{source.tap.upper().replace('-', '_')}_START_DATE"] = start_date

    providers = [source.provider for source in SOURCES]
    step(f"Starting the emulators on 127.0.0.1 ports {', '.join(str(PORTS[name]) for name in providers)}")
    emulators = subprocess.Popen(
        [sys.executable, "-m", "emulators", f"--providers={','.join(providers)}", *[f"--port={name}={PORTS[name]}" for name in providers]],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        print("   ", json.loads(emulators.stdout.readline()))
        shutil.rmtree(WAREHOUSE.parent, ignore_errors=True)
        WAREHOUSE.parent.mkdir(parents=True)
        for source in SOURCES:
            meltano(["state", "clear", "--force", f"dev:{source.tap}-to-target-duckdb"], env, quiet=True)

        step(f"First run: meltano run ads-to-duckdb (full extraction from {start_date})")
        seconds, log = run_job(env)
        print(f"    done in {seconds:.1f} s; {dbt_outcome(log)}")
        rows_after_first = summarize()

        step("Second run: meltano run ads-to-duckdb again (incremental: from each bookmark minus the lookback)")
        seconds, log = run_job(env)
        print(f"    done in {seconds:.1f} s; {dbt_outcome(log)}; what each report stream re-read:")
        for line in sorted(
            set(
                re.findall(
                    r"(\w+: (?:account|advertisable|organization) \S+, report days .*?window\(s\).*?)(?:\s*cmd_type|$)", log, re.MULTILINE
                )
            )
        ):
            print("     ", line.strip())
        rows_after_second = summarize(quiet=True)
        same = rows_after_first == rows_after_second
        print(
            f"    warehouse rows: {sum(rows_after_first.values())} before, {sum(rows_after_second.values())} after "
            f"({'unchanged: re-read days were upserted by primary key' if same else 'changed'})"
        )
        step(f"The unified model: {UNIFIED_CAMPAIGNS}, totals per platform, currency and month")
        print_unified_totals()
        return 0 if same else 1
    finally:
        emulators.terminate()
        emulators.wait(timeout=10)


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def meltano(args: list[str], env: dict, quiet: bool = False) -> subprocess.CompletedProcess:
    done = subprocess.run(["meltano", *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 and not quiet:
        sys.stderr.write(done.stdout[-5000:] + done.stderr[-5000:])
        raise SystemExit(f"meltano {' '.join(args)} failed with exit code {done.returncode}")
    return done


def run_job(env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = meltano(["run", "ads-to-duckdb"], env)
    return time.perf_counter() - started, done.stdout + done.stderr


def dbt_outcome(log: str) -> str:
    """The dbt build's own summary line (models built and tests run), from the job's log."""
    found = re.findall(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)", log)
    return f"dbt build: {found[-1]}" if found else "dbt build: no summary in the log"


def print_unified_totals() -> None:
    """The campaign-level unified table, summed per platform, currency and month: money never summed across
    currencies; spend_usd only where the data gives it (blank otherwise)."""
    query = f"""
        select platform, currency, strftime(date_day, '%Y-%m') as month, count(distinct campaign_id), count(*),
               sum(impressions), sum(clicks), sum(spend), sum(spend_usd), sum(conversions)
        from {UNIFIED_CAMPAIGNS} group by all order by platform, currency, month"""
    header = ("platform", "currency", "month", "campaigns", "rows", "impressions", "clicks", "spend", "spend_usd", "conversions")
    widths = (10, 8, 7, 9, 5, 12, 9, 14, 14, 11)
    print(
        "    "
        + " ".join(f"{name:>{width}}" if i > 2 else f"{name:<{width}}" for i, (name, width) in enumerate(zip(header, widths, strict=False)))
    )
    with duckdb.connect(str(WAREHOUSE), read_only=True) as db:
        for row in db.execute(query).fetchall():
            cells = [
                f"{row[0]:<10}",
                f"{row[1]:<8}",
                f"{row[2]:<7}",
                f"{row[3]:>9}",
                f"{row[4]:>5}",
                f"{row[5]:>12,}",
                f"{row[6]:>9,}",
                f"{row[7]:>14,.2f}",
                f"{row[8]:>14,.2f}" if row[8] is not None else " " * 14,
                f"{row[9]:>11,.0f}" if row[9] is not None else " " * 11,
            ]
            print("    " + " ".join(cells))


def summarize(quiet: bool = False) -> dict[str, int]:
    """Rows per table; unless quiet, print them and the spend per account."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(WAREHOUSE), read_only=True) as db:
        for source in SOURCES:
            tables = [
                name
                for (name,) in db.execute(
                    "select table_name from information_schema.tables where table_schema = ? order by 1", [source.schema]
                ).fetchall()
            ]
            if not quiet:
                print(f"    {source.tap} -> schema {source.schema}")
            for table in tables:
                counts[f"{source.schema}.{table}"] = db.execute(f'select count(*) from {source.schema}."{table}"').fetchone()[0]
                if not quiet:
                    print(f"      {table:<28} {counts[f'{source.schema}.{table}']:>7} rows")
            if quiet or source.spend_table not in tables:
                continue
            query = f"""
                select {source.account}, min({source.day})::date, max({source.day})::date,
                       round(sum({source.spend}), 2), min({source.currency})
                from {source.schema}.{source.spend_table} group by 1 order by 1"""
            print(f"      spend in {source.spend_table} ({source.spend}):")
            for account, first, last, spend, currency in db.execute(query).fetchall():
                print(f"        {source.account} {account}: {first} .. {last}  {spend:>14,.2f} {currency}")
    return counts


if __name__ == "__main__":
    sys.exit(main())
