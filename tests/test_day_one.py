"""Day one on a fresh clone, after `make setup`, with the README in hand: the emulators on the dev environment's
ports in one command, `meltano run tap-rokt target-duckdb` into dev's own warehouse file, an array setting from
the environment, a second `python -m emulators --dev` on ports already taken, `scripts/fault_matrix.py --help`."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import typing as t

import duckdb
import pytest
from fresh_clone import ROOT, FreshClone
from sources import BY_TAP, SOURCES

from emulators.testing import run_tap

START, END = "2025-03-01", "2025-03-08"
NEW_YORK, SYDNEY, LONDON = "3286272607917027328", "3286272607917027329", "3286272607917027330"
# Where each tap's URL settings point under its emulator's base URL, in the dev environment of meltano.yml.
URL_PATHS = {"tap-rokt": {"api_url": ""}, "tap-adroll": {"api_url": ""},
             "tap-mediamath": {"api_url": "/reporting/v2", "auth_url": "/oauth/token"}}


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> FreshClone:
    return FreshClone(tmp_path_factory.mktemp("clone"), {"extractors": [source.tap for source in SOURCES], "loader": ["target-duckdb"]})


@pytest.fixture(scope="module")
def dev_emulators(clone) -> t.Iterator[dict[str, str]]:
    """`.venv/bin/python -m emulators --dev`, as the README says, in the clone."""
    process = subprocess.Popen([sys.executable, "-m", "emulators", "--dev"], cwd=clone.root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        pytest.fail(f"python -m emulators --dev did not start: {process.communicate(timeout=30)[1]}")
    try:
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _counts(messages: t.Iterable[dict]) -> dict[str, int]:
    return dict(collections.Counter(m["stream"] for m in messages if m["type"] == "RECORD"))


def test_the_dev_environment_points_at_the_emulators_dev_serves_with_known_settings_only(clone, dev_emulators):
    assert dev_emulators == {"rokt": "http://127.0.0.1:18101", "adroll": "http://127.0.0.1:18102", "mediamath": "http://127.0.0.1:18103"}
    for source in SOURCES:
        # What Meltano writes into the tap's config file: dev's URLs, and only names the tap knows (no extras such as
        # _select: an unknown name would make the tap warn on every run).
        config = json.loads(clone.meltano("invoke", "--dump=config", source.tap).stdout)
        assert {name: config[name] for name in URL_PATHS[source.tap]} == {
            name: dev_emulators[source.provider] + path for name, path in URL_PATHS[source.tap].items()
        }
        about = json.loads(subprocess.run([clone.root / ".meltano" / "extractors" / source.tap / "venv" / "bin" / source.tap,
                                           "--about", "--format=json"], capture_output=True, text=True, check=True).stdout)
        assert set(config) <= set(about["settings"]["properties"]), source.tap


def test_a_first_dev_run_on_a_fresh_clone_lands_in_dev_s_own_warehouse(clone, dev_emulators):
    done = clone.meltano("run", "tap-rokt", "target-duckdb", env={"TAP_ROKT_START_DATE": START, "TAP_ROKT_END_DATE": END})
    assert "Cannot open file" not in done.stderr
    alone = run_tap("tap-rokt", BY_TAP["tap-rokt"].settings(dev_emulators["rokt"], START, END))
    assert alone.returncode == 0, alone.stderr[-3000:]
    with duckdb.connect(str(clone.root / "output" / "dev.duckdb"), read_only=True) as db:
        query = "select table_name from information_schema.tables where table_schema = 'tap_rokt'"
        tables = [name for (name,) in db.execute(query).fetchall()]
        landed = {name: db.execute(f'select count(*) from tap_rokt."{name}"').fetchone()[0] for name in tables}
    assert landed == _counts(alone.messages)
    assert sorted(path.name for path in (clone.root / "output").iterdir()) == [".gitignore", "dev.duckdb"]  # prod's file: not made


def test_an_array_setting_from_the_environment_extracts_exactly_those_accounts(clone, dev_emulators):
    wanted = [NEW_YORK, LONDON]
    env = {"TAP_ROKT_ACCOUNT_IDS": json.dumps(wanted), "TAP_ROKT_START_DATE": START, "TAP_ROKT_END_DATE": END}
    listed = clone.meltano("--environment=dev", "config", "list", "tap-rokt", env=env).stdout
    source = "(from the TAP_ROKT_ACCOUNT_IDS variable in the environment)"
    assert f"account_ids [env: TAP_ROKT_ACCOUNT_IDS] current value: {wanted!r} {source}" in listed
    done = clone.meltano("invoke", "tap-rokt", env=env)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"type"')]
    accounts = [m["record"]["accountId"] for m in messages if m["type"] == "RECORD" and m["stream"] == "accounts"]
    assert accounts == wanted
    state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    assert [p["context"]["account_id"] for p in state["bookmarks"]["campaign_report"]["partitions"]] == wanted
    alone = run_tap("tap-rokt", {**BY_TAP["tap-rokt"].settings(dev_emulators["rokt"], START, END), "account_ids": wanted})
    assert _counts(messages) == _counts(alone.messages)


def test_a_second_dev_emulators_on_taken_ports_ends_in_one_line(clone, dev_emulators):
    command = [sys.executable, "-m", "emulators", "--dev"]
    done = subprocess.run(command, cwd=clone.root, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "python -m emulators: port 18101 (rokt) on 127.0.0.1 is already in use: stop what listens there (emulators left "
        "running?), or serve rokt on another port with --port rokt=PORT\n"
    )


def test_fault_matrix_help_prints_its_usage_and_runs_nothing():
    command = [sys.executable, "scripts/fault_matrix.py", "--help"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")  # stderr empty: no scenario ran (each writes a progress line there)
    assert done.stdout.startswith("usage: scripts/fault_matrix.py [-h] [TAP ...]\n")
    assert "taps to run (default: all): tap-rokt, tap-adroll, tap-mediamath" in done.stdout
