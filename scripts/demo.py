"""The demo: every source, from its local emulator, into an embedded DuckDB warehouse of its own, twice.

1. refuses to start, in one line, when TARGET_DUCKDB_FILEPATH names another file than its own warehouse, or when
   output/demo/ was not made by the demo;
2. starts the emulators (`python -m emulators`) on free loopback ports and points the `dev` environment's taps at them;
3. deletes its own warehouse (output/demo/warehouse.duckdb) and clears its own state ids
   (dev:<tap>-to-target-duckdb:demo), then runs the `ads-to-duckdb` job: a first, full run, whose last task builds
   and tests the unified ad_reporting tables (dbt, transform/);
4. prints what landed: per source, tables and rows, then date range and spend per account in its currency;
5. runs the job again: an incremental run, which re-reads only the lookback days and upserts them;
6. prints the unified campaign-level table's totals per platform, currency and month;
7. stops the emulators.

Nothing else is read or written: not prod's warehouse (output/warehouse.duckdb) nor dev's (output/dev.duckdb), not
their state ids, not the other files in output/. The demo runs on its own settings: the taps' settings in the
environment (TAP_ROKT_APP_ID...) and the project's .env (where prod secrets live) are left out of its runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "output" / "demo"
WAREHOUSE = DEMO_DIR / "warehouse.duckdb"
# Written when the demo makes DEMO_DIR: without it the folder is someone else's, and the demo touches nothing there.
MARKER = DEMO_DIR / ".created-by-demo"
ENVIRONMENT = "dev"
STATE_ID_SUFFIX = "demo"  # state ids dev:<tap>-to-target-duckdb:demo, apart from dev's own runs and from prod's
DEMO_DAYS = 30
UNIFIED_CAMPAIGNS = "ad_reporting.ad_reporting__campaign_report"
# The base URL of each tap's API under its emulator's URL, as the dev environment of meltano.yml sets them.
API_URLS = {
    "TAP_ROKT_API_URL": ("rokt", ""),
    "TAP_ADROLL_API_URL": ("adroll", ""),
    "TAP_MEDIAMATH_API_URL": ("mediamath", "/reporting/v2"),
    "TAP_MEDIAMATH_AUTH_URL": ("mediamath", "/oauth/token"),
}


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
    refusal = refusal_reason(os.environ)
    if refusal:
        print(f"demo: {refusal}", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    env = demo_environment(os.environ)
    # The date-time form most Meltano users write: the tap names report days by its calendar date.
    start_date = f"{(dt.date.today() - dt.timedelta(days=DEMO_DAYS)).isoformat()}T00:00:00Z"
    for source in SOURCES:
        env[f"{source.tap.upper().replace('-', '_')}_START_DATE"] = start_date

    providers = [source.provider for source in SOURCES]
    step(f"Starting the emulators of {', '.join(providers)} on free ports of 127.0.0.1")
    command = [sys.executable, "-m", "emulators", f"--providers={','.join(providers)}"]
    emulators = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        first_line = emulators.stdout.readline() if emulators.stdout else ""
        if not first_line:
            print("demo: the emulators did not start (their error is above)", file=sys.stderr)
            return 1
        urls = json.loads(first_line)
        print("   ", urls)
        env.update({name: urls[provider] + path for name, (provider, path) in API_URLS.items()})
        reset_own_warehouse_and_state(env)

        step(f"First run: meltano run ads-to-duckdb (full extraction from {start_date}) into {WAREHOUSE.relative_to(ROOT)}")
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


def refusal_reason(environ: t.Mapping[str, str]) -> str | None:
    """Why the demo must not start, in one line: it would write a file it did not create."""
    named = environ.get("TARGET_DUCKDB_FILEPATH")
    if named and (ROOT / named).resolve() != WAREHOUSE:
        return (
            f"TARGET_DUCKDB_FILEPATH names {named}, but the demo writes only its own warehouse, {WAREHOUSE.relative_to(ROOT)}: "
            "unset TARGET_DUCKDB_FILEPATH and run the demo again"
        )
    if DEMO_DIR.exists() and not MARKER.exists():
        return f"{DEMO_DIR.relative_to(ROOT)}/ was not made by the demo, which would overwrite it: move it away and run the demo again"
    return None


def demo_environment(environ: t.Mapping[str, str]) -> dict[str, str]:
    """The environment of every meltano command: the taps' settings the shell holds (prod credentials, accounts)
    left out, so the dev environment's settings and the demo's own apply; the demo's warehouse."""
    own = tuple(f"{source.tap.upper().replace('-', '_')}_" for source in SOURCES)
    left_out = sorted(name for name in environ if name.startswith(own))
    if left_out:
        print(f"    the demo runs on its own settings: leaving out {', '.join(left_out)}")
    env = {name: value for name, value in environ.items() if name not in left_out and name != "MELTANO_ENVIRONMENT"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TARGET_DUCKDB_FILEPATH"] = str(WAREHOUSE)
    return env


def reset_own_warehouse_and_state(env: dict) -> None:
    """Delete the warehouse the demo made last time (only in its own folder) and clear only its own state ids."""
    if DEMO_DIR.exists():
        for made in (WAREHOUSE, WAREHOUSE.with_name(f"{WAREHOUSE.name}.wal")):
            made.unlink(missing_ok=True)
    else:
        DEMO_DIR.mkdir(parents=True)
        MARKER.write_text("Made by scripts/demo.py, which deletes and rewrites warehouse.duckdb here on every run.\n")
    for source in SOURCES:  # an id not there yet is no error; a failure is (a first run must start from start_date)
        meltano(["state", "clear", "--force", state_id(source.tap)], env)


def state_id(tap: str) -> str:
    return f"{ENVIRONMENT}:{tap}-to-target-duckdb:{STATE_ID_SUFFIX}"


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def meltano(args: list[str], env: dict) -> subprocess.CompletedProcess:
    # --env-file: the project's .env holds prod's secrets and settings; the demo runs on its own.
    command = ["meltano", f"--environment={ENVIRONMENT}", f"--env-file={os.devnull}", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-5000:] + done.stderr[-5000:])
        raise SystemExit(f"meltano {' '.join(args)} failed with exit code {done.returncode}")
    return done


def run_job(env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = meltano(["run", f"--state-id-suffix={STATE_ID_SUFFIX}", "ads-to-duckdb"], env)
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
