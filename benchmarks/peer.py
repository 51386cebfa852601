"""Our tap-adroll beside the one users would otherwise install: singer-io tap-adroll 1.2.1 from PyPI, in its own
virtual environment (.venv-peer/, git-ignored, created on first use), on the same emulator, days and latency.

Per size and latency, both extract the ad report over the same report days, then the campaigns, and the table
compares: wall time, API requests (report requests apart), rows emitted against distinct (eid, date) keys and
against the emulator's own count of ad-days, and inactive campaigns received against those that exist.
The peer asks for one day of one advertisable per request, with a parameter the API does not document
(``advertisable``; the documented list is ``advertisables``): the API ignores it and answers every advertisable
of the organization each time, as the emulator does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

from measure import Measure, run_child
from scale import START

from emulators.adroll import AdRollEmulator
from emulators.testing import discover, select, tap_executable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_VENV = ROOT / ".venv-peer"
PEER_REQUIREMENT = "tap-adroll==1.2.1"
LAUNCHER = HERE / "peer_adroll.py"


def peer_python() -> Path:
    """The peer venv's Python, creating the venv and installing the peer on first use."""
    python = PEER_VENV / "bin" / "python"
    ready = PEER_VENV / f".ready-{PEER_REQUIREMENT}"
    if not ready.exists():
        print(f"  creating {PEER_VENV.name}/ with {PEER_REQUIREMENT} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               PEER_REQUIREMENT], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"pip install {PEER_REQUIREMENT} failed:\n{done.stderr[-3000:]}")
        ready.touch()
    return python


class _Keys:
    """Collects what a RECORD line says: (eid, date) keys, and how many inactive campaigns."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()
        self.inactive = 0

    def __call__(self, line: bytes) -> None:
        record = json.loads(line)["record"]
        self.keys.add((record.get("eid"), str(record.get("date", ""))[:10]))
        if record.get("is_active") is False:
            self.inactive += 1


def _truth(emulator: AdRollEmulator, days: int) -> tuple[int, int]:
    """(ad-days with a report row, inactive campaigns) in the emulator."""
    ad_days = sum(len(emulator.truth_report("ad", START + dt.timedelta(days=n))) for n in range(days))
    eids = emulator.advertisable_eids()
    inactive = sum(1 for e in eids for c in emulator.campaigns(e, None) if not c["is_active"])
    return ad_days, inactive


def bench_peer(sizes: t.Sequence[int], latencies: t.Sequence[float], days_at: t.Callable[[int, float], int],
               workdir: Path) -> list[dict]:
    """Rows per (advertisables, latency) and tap: ours and the peer on the same emulator and days."""
    python = peer_python()
    rows = []
    for size in sizes:
        with AdRollEmulator(accounts=size) as emulator:
            ours_config = {"api_url": emulator.url, "api_key": emulator.client_id,
                           "personal_access_token": emulator.personal_access_token}
            # The peer rewrites its config file with each rotated refresh token: one file for all its runs.
            peer_config_path = workdir / f"peer-{size}.json"
            peer_config_path.write_text(json.dumps({
                "client_id": emulator.client_id, "client_secret": emulator.client_secret,
                "access_token": emulator.initial_access_token, "refresh_token": emulator.initial_refresh_token,
                "start_date": f"{START.isoformat()}T00:00:00Z",
            }))
            env = {"PEER_ADROLL_URL": emulator.url, "OAUTHLIB_INSECURE_TRANSPORT": "1"}
            peer = [str(python), str(LAUNCHER), "--config", str(peer_config_path)]
            done = subprocess.run([*peer, "--discover"], env={**os.environ, **env}, capture_output=True, text=True,
                                  check=False)
            if done.returncode != 0:
                raise SystemExit(f"the peer's discovery failed:\n{done.stderr[-3000:]}")
            peer_catalog = json.loads(done.stdout)
            ours_catalog = discover("tap-adroll", {**ours_config, "start_date": START.isoformat()})
            for latency in latencies:
                days = days_at(size, latency)
                end = START + dt.timedelta(days=days)
                ad_days, inactive_truth = _truth(emulator, days)
                print(f"  tap-adroll and peer 1.2.1, {size} advertisable(s), {days} days, {latency:g} ms ...",
                      file=sys.stderr, flush=True)
                emulator.latency_ms = latency
                figures = {}
                for who in ("ours", "peer"):
                    figures[who] = {}
                    for stream in ("ad_report", "campaigns"):
                        keys = _Keys()
                        if who == "ours":
                            name = stream
                            config = {**ours_config, "start_date": START.isoformat(), "end_date": end.isoformat()}
                            catalog, command_env = select(ours_catalog, {name}), None
                            command = [tap_executable("tap-adroll")]
                        else:
                            name = "ad_reports" if stream == "ad_report" else stream
                            config = json.loads(peer_config_path.read_text())  # the latest refresh token
                            config.update({"start_date": f"{START.isoformat()}T00:00:00Z",  # end_date is inclusive
                                           "end_date": f"{(end - dt.timedelta(days=1)).isoformat()}T00:00:00Z"})
                            catalog, command_env = select(peer_catalog, {name}), env
                            command = list(peer)
                        config_path = peer_config_path if who == "peer" else workdir / f"ours-{size}.json"
                        config_path.write_text(json.dumps(config))
                        catalog_path = workdir / f"{who}-{size}-{stream}-catalog.json"
                        catalog_path.write_text(json.dumps(catalog))
                        if who == "ours":
                            command += ["--config", str(config_path)]
                        command += ["--catalog", str(catalog_path)]
                        measure = run_child(command, emulator, name, report_path=r"/report/ad$", env=command_env,
                                            inspect=keys)
                        figures[who][stream] = (measure, keys)
                emulator.latency_ms = 0
                for who, label in (("ours", "ours"), ("peer", "singer-io tap-adroll 1.2.1")):
                    report, report_keys = figures[who]["ad_report"]
                    campaigns, campaign_keys = figures[who]["campaigns"]
                    rows.append(_row(label, size, days, latency, report, report_keys, campaigns, campaign_keys,
                                     ad_days, inactive_truth))
    return rows


def _row(label: str, size: int, days: int, latency: float, report: Measure, report_keys: _Keys,
         campaigns: Measure, campaign_keys: _Keys, ad_days: int, inactive_truth: int) -> dict:
    return {
        "tap": label,
        "advertisables": size,
        "days": days,
        "latency_ms": latency,
        "wall_s": round(report.seconds, 2),
        "requests": report.requests,
        "report_requests": report.report_requests,
        "floor_s": round(report.requests * latency / 1000, 2),
        "rows_emitted": report.records,
        "distinct_keys": len(report_keys.keys),
        "ad_days_in_api": ad_days,
        "duplicates_per_key": round(report.records / len(report_keys.keys), 2) if report_keys.keys else None,
        "campaigns_received": campaigns.records,
        "inactive_campaigns_received": f"{campaign_keys.inactive} of {inactive_truth}",
        "campaigns_wall_s": round(campaigns.seconds, 2),
    }
