"""The UI as the README starts it on one machine (`python -m orchestrate.local ui`: an embedded PostgreSQL, then
`dagster dev` from .venv-ui on orchestrate/workspace.yaml, the code location in .venv), on the repository's own
project and shards, against the three emulators: its GraphQL API answers with the asset graph and its checks;
two runs launched through it go through the run queue one after the other, never side by side; the last
materializations carry the shards' figures; SIGTERM stops every process it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from orchestration import wait_until

from emulators.adroll import AdRollEmulator
from emulators.mediamath import MediaMathEmulator
from emulators.rokt import RoktEmulator
from orchestrate.local_postgres import free_port

ROOT = Path(__file__).resolve().parent.parent
UI_DAGSTER = ROOT / ".venv-ui" / "bin" / "dagster"
START, END = "2025-03-01", "2025-03-04"
UNIFIED = {"ad_reporting__account_report", "ad_reporting__campaign_report", "ad_reporting__ad_group_report",
           "ad_reporting__ad_report"}
JOB = {"repositoryLocationName": "ads", "repositoryName": "__repository__", "jobName": "ads_shards"}
LAUNCH = """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN = "query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime } } }"
ASSETS = """{ assetNodes { assetKey { path } dependencyKeys { path }
  assetChecksOrError { ... on AssetChecks { checks { name } } }
  assetMaterializations(limit: 1) { runId metadataEntries { label ... on IntMetadataEntry { intValue } } } } }"""

pytestmark = pytest.mark.skipif(not UI_DAGSTER.exists(), reason="no .venv-ui: `make orchestrate` creates it")


def graphql(url: str, query: str, **variables) -> dict:
    request = urllib.request.Request(url, json.dumps({"query": query, "variables": variables}).encode(),
                                     {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = json.loads(answer.read())
    assert "errors" not in body, body
    return body["data"]


def _answers(url: str) -> bool:
    with contextlib.suppress(OSError, urllib.error.URLError):
        return "assetNodes" in graphql(url, "{ assetNodes { id } }")
    return False


@pytest.fixture(scope="module")
def ui():
    # As root the server runs as another user, who must reach its data: a folder of its own under /tmp.
    home = Path(tempfile.mkdtemp(prefix="one-machine-"))
    home.chmod(0o755)
    with RoktEmulator() as rokt, AdRollEmulator() as adroll, MediaMathEmulator() as mediamath:
        port = free_port()
        env = {
            **os.environ,
            # The dev environment's emulators, on the ports these ones got; a few report days.
            "TAP_ROKT_API_URL": rokt.url, "TAP_ADROLL_API_URL": adroll.url,
            "TAP_MEDIAMATH_API_URL": f"{mediamath.url}/reporting/v2", "TAP_MEDIAMATH_AUTH_URL": f"{mediamath.url}/oauth/token",
            **{f"TAP_{tap}_{name}": day for tap in ("ROKT", "ADROLL", "MEDIAMATH")
               for name, day in (("START_DATE", START), ("END_DATE", END))},
        }
        log = home / "ui.log"
        with log.open("w") as out:
            # The README's command (`make dagster-ui` runs it with --port 3000 and the home .orchestrate/).
            process = subprocess.Popen(
                [sys.executable, "-m", "orchestrate.local", "ui", "--port", str(port), "--home", str(home)],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}/graphql"
        try:
            wait_until(lambda: _answers(url) or process.poll() is not None, 240, "the UI's GraphQL API", interval=1)
            assert process.poll() is None, log.read_text()[-3000:]
            yield url, process, log, home
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(90)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            shutil.rmtree(home, ignore_errors=True)


def _launch(url: str, **selection) -> str:
    launched = graphql(url, LAUNCH, params={"selector": {**JOB, **selection}, "runConfigData": {}})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def _run(url: str, run_id: str) -> dict:
    return graphql(url, RUN, id=run_id)["runOrError"]


def test_the_ui_shows_the_asset_graph_queues_a_second_run_and_the_last_materializations(ui):
    url, _, log, _ = ui
    nodes = {"/".join(node["assetKey"]["path"]): node for node in graphql(url, ASSETS)["assetNodes"]}
    assert {"tap_rokt/campaign_report", "tap_adroll/ad_report", "tap_mediamath/performance"} <= set(nodes)
    unified = {key.split("/")[-1]: node for key, node in nodes.items() if key.split("/")[-1] in UNIFIED}
    assert set(unified) == UNIFIED
    for node in unified.values():
        checks = [check["name"] for check in node["assetChecksOrError"]["checks"]]
        assert any(name.startswith("reconciles_with_report_streams") for name in checks), checks
    staging = nodes["staging/stg_rokt__campaign_report"]
    assert staging["dependencyKeys"] == [{"path": ["tap_rokt", "campaign_report"]}]

    first = _launch(url)
    second = _launch(url, assetSelection=[{"path": ["tap_mediamath", "performance"]}])
    # The second waits in the queue while the first goes.
    wait_until(lambda: _run(url, first)["status"] in {"STARTED", "SUCCESS", "FAILURE"}, 180, "the first run to start")
    assert _run(url, second)["status"] == "QUEUED"
    wait_until(lambda: _run(url, first)["status"] in {"SUCCESS", "FAILURE"}, 1500, "the first run")
    wait_until(lambda: _run(url, second)["status"] in {"SUCCESS", "FAILURE"}, 900, "the second run")
    runs = {run_id: _run(url, run_id) for run_id in (first, second)}
    assert {run["status"] for run in runs.values()} == {"SUCCESS"}, log.read_text()[-3000:]
    assert runs[second]["startTime"] >= runs[first]["endTime"]

    nodes = {"/".join(node["assetKey"]["path"]): node for node in graphql(url, ASSETS)["assetNodes"]}
    latest = {key: node["assetMaterializations"][0] for key, node in nodes.items() if node["assetMaterializations"]}
    assert set(latest) == set(nodes)
    assert latest["tap_mediamath/performance"]["runId"] == second
    assert all(entry["runId"] == first for key, entry in latest.items() if key != "tap_mediamath/performance")
    figures = {e["label"]: e.get("intValue") for e in latest["tap_rokt/campaign_report"]["metadataEntries"]}
    assert figures["shards"] == 2
    assert figures["rows"] > 0
    assert figures["requests"] >= 3  # one per demo account at least


def test_sigterm_stops_every_process_the_one_machine_command_started(ui):
    url, process, log, home = ui
    assert _started_by(home)  # the UI, the daemon, the code server and its run workers carry its DAGSTER_HOME
    process.send_signal(signal.SIGTERM)
    process.wait(90)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _started_by(home):
        time.sleep(0.5)
    assert _started_by(home) == []
    text = log.read_text()
    assert "Dagster services shut down." in text
    assert not _answers(url)
    # The PostgreSQL server is stopped too.
    port = int(re.search(r"PostgreSQL on 127\.0\.0\.1:(\d+)", text)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def _started_by(home: Path) -> list[int]:
    """Processes whose environment holds the one-machine DAGSTER_HOME under ``home``."""
    marker = f"DAGSTER_HOME={home / 'dagster'}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found
