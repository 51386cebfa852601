"""The command line: --about without network or settings, --discover, streams, keys and replication."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from adroll_support import CLIENT_ID, PAT

from emulators.testing import tap_executable

EXPECTED = {
    "organization": (["eid"], None),
    "advertisables": (["eid"], None),
    "campaigns": (["eid"], None),
    "ad_groups": (["eid"], None),
    "ads": (["eid"], None),
    "segments": (["eid"], None),
    "ad_report": (["eid", "date"], "date"),
    "campaign_report": (["eid", "date"], "date"),
    "advertisable_report": (["eid", "date"], "date"),
}


def run(*args: str) -> subprocess.CompletedProcess:
    # An unroutable proxy makes any network use fail loudly.
    env = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "PATH": ""}
    return subprocess.run([tap_executable("tap-adroll"), *args], capture_output=True, text=True, env=env, check=False, timeout=60)


def test_about_in_every_format_without_settings_or_network():
    about = json.loads(run("--about", "--format=json").stdout)
    assert about["name"] == "tap-adroll"
    assert about["version"] == "0.1.0"
    assert set(about["capabilities"]) >= {"catalog", "discover", "state", "about", "stream-maps", "schema-flattening"}
    settings = about["settings"]["properties"]
    for name in (
        "start_date",
        "end_date",
        "lookback_window_days",
        "api_url",
        "api_key",
        "personal_access_token",
        "access_token",
        "refresh_token",
        "client_secret",
        "organization_eid",
        "advertisable_eids",
        "currency",
    ):
        assert name in settings, name
    assert "| personal_access_token |" in run("--about", "--format=markdown").stdout
    assert "tap-adroll" in run("--about").stdout


def test_discover_lists_the_contract_streams():
    done = run("--discover", "--config", "ENV")  # no settings needed: the catalog is static
    assert done.returncode == 0, done.stderr[-2000:]
    catalog = json.loads(done.stdout)
    found = {}
    for entry in catalog["streams"]:
        root = next(m["metadata"] for m in entry["metadata"] if not m["breadcrumb"])
        found[entry["tap_stream_id"]] = (entry["key_properties"], entry.get("replication_key"))
        assert root.get("forced-replication-method", "INCREMENTAL" if entry.get("replication_key") else "FULL_TABLE")
    assert found == EXPECTED


def test_python_dash_m_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "tap_adroll", "--about", "--format=json"], capture_output=True, text=True, check=False)
    assert json.loads(done.stdout)["name"] == "tap-adroll"
    assert CLIENT_ID not in done.stdout and PAT not in done.stdout


def test_readme_settings_table_is_the_about_output():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme.split("<!-- settings:start -->\n")[1].split("\n<!-- settings:end -->")[0]
    about = run("--about", "--format=markdown").stdout
    assert table in about
