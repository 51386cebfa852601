"""The sharded job on Dagster (orchestrate/): shards as Meltano inherited plugins, state and the system database
in PostgreSQL, two Celery workers with their own Meltano run directories, against emulators with latency and
more accounts than the demo. Expected figures are those of one serial, unsharded run of the same tap.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from orchestration import BIN, STEP_RETRIED, Gate, Stack, landed, serial_run, wait_until
from postgres import postgres_server
from sources import BY_TAP

from emulators.adroll import AdRollEmulator
from emulators.rokt import RoktEmulator

START, END = "2025-03-01", "2025-03-06"
ROKT, ADROLL = BY_TAP["tap-rokt"], BY_TAP["tap-adroll"]
ALREADY_RUNNING = "pipeline is already running"


@pytest.fixture(scope="module")
def server():
    with postgres_server() as settings:
        yield settings


@pytest.fixture
def rokt():
    with RoktEmulator(accounts=8, latency_ms=20) as emulator:
        yield emulator


def _stack(server, tmp_path, request, taps, settings) -> Stack:
    stack = Stack(server, tmp_path, request.node.name.replace("test_", "")[:24].lower(), taps, settings)
    request.addfinalizer(stack.close)
    return stack


def _rokt_stack(server, tmp_path, request, rokt) -> Stack:
    accounts = list(rokt.accounts)
    return _stack(server, tmp_path, request, {"tap-rokt": (accounts, 4)},
                  ROKT.env(ROKT.settings(rokt.url, START, END)))


def _shard(stack: Stack, number: int):
    return next(shard for shard in stack.shards if shard.name == f"tap-rokt--shard-{number}")


def _state_id(shard_name: str) -> str:
    return f"dev:{shard_name}-to-target-postgres"


def _report_path(account_id: str) -> str:
    return rf"/v1/query/accounts/{account_id}/campaigns/?$"


def _wait_for_gate(gate: Gate, job) -> None:
    wait_until(lambda: gate.reached.is_set() or job.popen.poll() is not None, 240, "the held request")
    assert gate.reached.is_set(), job.text()[-3000:]


def _assert_lands_one_serial_run(stack: Stack, source, config: dict) -> None:
    expected, got = serial_run(source, config), landed(stack, source)
    assert got["counts"] == expected["counts"]
    assert got["spend"] == expected["spend"]
    assert got["duplicates"] == 0


def test_four_shards_on_two_workers_land_one_serial_run_and_refuse_a_second_run(server, tmp_path, request, rokt):
    stack = _rokt_stack(server, tmp_path, request, rokt)
    assert [len(shard.accounts) for shard in stack.shards] == [2, 2, 2, 2]
    stack.worker("one")
    stack.worker("two")
    first_shard = _shard(stack, 1)
    # Hold shard 1 inside its sync, so that a second run of it is attempted while it runs.
    gate = Gate(rokt, _report_path(first_shard.accounts[0]))
    job = stack.launch("ads_shards_celery", name="job")
    _wait_for_gate(gate, job)
    assert stack.running(_state_id(first_shard.name))

    # A second run of the job is refused while the first goes (one run at a time), and tried no more.
    again = stack.launch("ads_shards", name="again")
    assert again.wait() != 0
    assert "Refused: run " in again.text()
    assert STEP_RETRIED not in again.text()  # a refusal is final, not tried again
    # Meltano itself refuses a second run of the running shard, whoever starts it.
    shard_again = subprocess.run([str(BIN / "meltano"), "run", "--no-install", first_shard.name, "target-postgres"],
                                 cwd=stack.project, env=stack.env, capture_output=True, text=True, timeout=300, check=False)
    assert shard_again.returncode != 0
    assert ALREADY_RUNNING in shard_again.stdout + shard_again.stderr
    gate.open()
    assert job.wait() == 0, job.text()[-3000:]

    _assert_lands_one_serial_run(stack, ROKT, ROKT.settings(rokt.url, START, END))
    # Each shard has its own state id, holding the bookmarks of its own accounts only.
    states = stack.states()
    assert sorted(states) == sorted(_state_id(shard.name) for shard in stack.shards)
    for shard in stack.shards:
        partitions = states[_state_id(shard.name)]["singer_state"]["bookmarks"]["campaign_report"]["partitions"]
        assert sorted(p["context"]["account_id"] for p in partitions) == sorted(shard.accounts)
        bookmarks = {p["context"]["account_id"]: p.get("replication_key_value", "")[:10] for p in partitions}
        # Accounts with campaigns are bookmarked at the last report day before END (others at most there).
        assert {a: day for a, day in bookmarks.items() if rokt.accounts[a].campaigns} == {
            a: "2025-03-05" for a in shard.accounts if rokt.accounts[a].campaigns}
        assert all(day <= "2025-03-05" for day in bookmarks.values())


def _group_running(pgid: int, needle: str) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == pgid and needle in (entry / "cmdline").read_bytes().decode(errors="replace"):
                return True
        except (OSError, ProcessLookupError):
            continue
    return False


def test_a_worker_killed_mid_shard_then_the_job_again_loses_and_doubles_nothing(server, tmp_path, request, rokt):
    stack = _rokt_stack(server, tmp_path, request, rokt)
    workers = {"one": stack.worker("one"), "two": stack.worker("two")}
    victim_shard = _shard(stack, 3)
    gate = Gate(rokt, _report_path(victim_shard.accounts[-1]))
    job = stack.launch("ads_shards_celery", name="job")
    _wait_for_gate(gate, job)
    name, worker = next((name, worker) for name, worker in workers.items()
                        if _group_running(worker.popen.pid, victim_shard.name))
    worker.signal_group(signal.SIGKILL)  # the machine is gone: worker, step, meltano, tap and target at once
    worker.wait(30)
    gate.open()

    # The shards on the other worker finish; the killed ones stay "running" in Meltano's records.
    state_ids = [_state_id(shard.name) for shard in stack.shards]
    state_ids = [_state_id(shard.name) for shard in stack.shards]
    killed = wait_until(lambda: stack.dead_runs(state_ids), 240, "the surviving shards")
    assert _state_id(victim_shard.name) in killed
    job.stop()
    partial = landed(stack, ROKT)
    expected = serial_run(ROKT, ROKT.settings(rokt.url, START, END))
    assert partial["spend"] != expected["spend"]  # the kill did cost rows: the second run has to bring them

    # The stopped launch leaves its Dagster run "started" (no daemon watches it here): the operator terminates it.
    assert len(stack.cancel_unfinished_runs()) == 1
    for state_id in killed:
        assert stack.age_dead_runs(state_id) == 1
    stack.worker(f"{name}-again", concurrency=2)  # the machine back, with its run directory
    rerun = stack.launch("ads_shards_celery", name="rerun")
    assert rerun.wait() == 0, rerun.text()[-3000:]
    _assert_lands_one_serial_run(stack, ROKT, ROKT.settings(rokt.url, START, END))


def test_four_adroll_shards_share_rotating_oauth_tokens_through_one_token_file(server, tmp_path, request):
    # Access tokens live 1 s and every refresh spends the refresh token: four shards refreshing at once
    # lock each other out unless they share the newest tokens through the token file and its lock.
    with AdRollEmulator(accounts=8, token_ttl=1.0, latency_ms=50) as adroll:
        advertisables = [row["eid"] for row in adroll.advertisables]
        token_file = tmp_path / "adroll-oauth.json"
        oauth = {
            "api_url": adroll.url, "api_key": "demo-client-id", "personal_access_token": "",
            "access_token": "demo-access-token", "refresh_token": "demo-refresh-token",
            "client_secret": "demo-client-secret", "oauth_token_file": str(token_file),
            "start_date": START, "end_date": END,
        }
        stack = _stack(server, tmp_path, request, {"tap-adroll": (advertisables, 4)}, ADROLL.env(oauth))
        job = stack.launch("ads_shards", name="job")
        assert job.wait() == 0, job.text()[-5000:]

        _assert_lands_one_serial_run(stack, ADROLL, ADROLL.settings(adroll.url, START, END))
        refreshes = [r for r in adroll.requests if r.path == "/auth/token" and r.status == 200]
        # The first access token expired before the shards started, and the ones that replaced it during the run.
        assert len(refreshes) >= 2
        # No shard was ever refused a refresh (a spent refresh token): each used the newest one.
        assert not [r for r in adroll.requests if r.path == "/auth/token" and r.status != 200]
        saved = json.loads(token_file.read_text())
        usable = [token for token, unused in adroll.tokens.refresh.items() if unused]
        assert usable == [saved["refresh_token"]]  # the file holds the one refresh token still valid


# ---------------------------------------------------------------------- declaring shards (no processes)


def _declare(path: Path, taps: dict) -> list:
    from orchestrate.shards import generate

    (path / "shards.yml").write_text(json.dumps({"taps": taps}))  # JSON is YAML
    return generate(path / "shards.yml", path / "shards.meltano.yml")


def test_declaring_again_keeps_every_account_in_its_shard_and_fills_the_smallest(tmp_path):
    first = _declare(tmp_path, {"tap-rokt": {"shards": 3, "accounts": ["a", "b", "c", "d", "e"]}})
    assert [(s.name, s.accounts) for s in first] == [
        ("tap-rokt--shard-1", ("a", "d")), ("tap-rokt--shard-2", ("b", "e")), ("tap-rokt--shard-3", ("c",))]
    # "b" leaves, "f" and "g" arrive, the declaration is reordered: nothing that stays moves.
    again = _declare(tmp_path, {"tap-rokt": {"shards": 3, "accounts": ["g", "f", "e", "d", "c", "a"]}})
    assert [(s.name, s.accounts) for s in again] == [
        ("tap-rokt--shard-1", ("a", "d")), ("tap-rokt--shard-2", ("e", "g")), ("tap-rokt--shard-3", ("c", "f"))]
    # One more shard: the existing three keep theirs; the new one takes the next arrivals.
    more = _declare(tmp_path, {"tap-rokt": {"shards": 4, "accounts": ["a", "c", "d", "e", "f", "g", "h", "i"]}})
    assert [(s.name, s.accounts) for s in more] == [
        ("tap-rokt--shard-1", ("a", "d")), ("tap-rokt--shard-2", ("e", "g")), ("tap-rokt--shard-3", ("c", "f")),
        ("tap-rokt--shard-4", ("h", "i"))]


def test_the_generated_file_declares_inherited_plugins_landing_in_the_tap_tables(tmp_path):
    import yaml

    _declare(tmp_path, {"tap-adroll": {"shards": 2, "accounts": ["E1", "E2", "E3"]},
                        "tap-mediamath": {"shards": 5, "accounts": [300000, 300001]}})
    plugins = yaml.safe_load((tmp_path / "shards.meltano.yml").read_text())["plugins"]["extractors"]
    assert plugins == [
        {"name": "tap-adroll--shard-1", "inherit_from": "tap-adroll", "namespace": "tap_adroll",
         "config": {"advertisable_eids": ["E1", "E3"]}},
        {"name": "tap-adroll--shard-2", "inherit_from": "tap-adroll", "namespace": "tap_adroll",
         "config": {"advertisable_eids": ["E2"]}},
        # More shards than advertisers: no empty shard (an empty list would mean every advertiser).
        {"name": "tap-mediamath--shard-1", "inherit_from": "tap-mediamath", "namespace": "tap_mediamath",
         "config": {"advertiser_ids": [300000]}},
        {"name": "tap-mediamath--shard-2", "inherit_from": "tap-mediamath", "namespace": "tap_mediamath",
         "config": {"advertiser_ids": [300001]}},
    ]


def test_the_repository_shards_file_is_generated_from_its_declaration(tmp_path):
    from orchestrate import shards

    generated = shards.OUTPUT.read_text()
    copy = tmp_path / "shards.meltano.yml"
    copy.write_text(generated)
    shards.generate(shards.DECLARATION, copy)
    assert copy.read_text() == generated


def test_a_tap_can_keep_its_shards_on_one_celery_queue_and_pool(tmp_path):
    from orchestrate.definitions import build
    from orchestrate.project import Project
    from orchestrate.shards import generate

    (tmp_path / "orchestrate").mkdir()
    (tmp_path / "meltano.yml").write_text((Path(__file__).parent.parent / "meltano.yml").read_text())
    (tmp_path / "orchestrate" / "shards.yml").write_text(json.dumps({
        "taps": {"tap-adroll": {"shards": 2, "accounts": ["E1", "E2"]}, "tap-rokt": {"shards": 1, "accounts": ["1"]}},
        "job": {"queues": {"tap-adroll": "adroll"}, "pools": {"tap-adroll": "adroll"}},
    }))
    generate(tmp_path / "orchestrate" / "shards.yml", tmp_path / "orchestrate" / "shards.meltano.yml")
    defs = build(Project(tmp_path))
    landed = defs.resolve_assets_def(dg_key("tap_rokt", "campaign_report"))
    ops = {op.name: op for op in landed.node_def.node_defs}
    assert {name: (op.tags.get("dagster-celery/queue"), op.pool) for name, op in ops.items()} == {
        "prepare_run": (None, None), "tap_adroll__shard_1": ("adroll", "adroll"), "tap_adroll__shard_2": ("adroll", "adroll"),
        "tap_rokt__shard_1": (None, None), "tap_adroll_landed": (None, None), "tap_rokt_landed": (None, None)}
    # A tap's tables wait for every shard of that tap, and every shard for prepare_run.
    dependencies = landed.node_def.dependency_structure
    assert {dep.node.name for dep in dependencies.all_upstream_outputs_from_node("tap_adroll_landed")} == {
        "tap_adroll__shard_1", "tap_adroll__shard_2"}
    assert {dep.node.name for dep in dependencies.all_upstream_outputs_from_node("tap_rokt__shard_1")} == {"prepare_run"}


def dg_key(*path: str):
    import dagster as dg

    return dg.AssetKey(list(path))


def test_the_dagster_libraries_are_pinned_to_the_release_of_dagster():
    from importlib.metadata import version

    pins = dict(line.split("==") for line in (Path(__file__).parent.parent / "requirements-orchestrate.txt")
                .read_text().splitlines() if "==" in line)
    major, minor, patch = pins["dagster"].split(".")
    assert (major, minor) == ("1", "13")
    # Dagster's libraries are numbered 0.(minor + 16).patch for dagster 1.minor.patch.
    libraries = {name: pin for name, pin in pins.items() if name != "dagster"}
    assert set(libraries) == {"dagster-celery", "dagster-postgres", "dagster-dbt"}
    assert set(libraries.values()) == {f"0.{int(minor) + 16}.{patch}"}
    assert {name: version(name) for name in pins} == pins
    # The UI's virtualenv runs the same release.
    ui = dict(line.split("==") for line in (Path(__file__).parent.parent / "requirements-ui.txt")
              .read_text().splitlines() if "==" in line)
    assert ui == {"dagster": pins["dagster"], "dagster-webserver": pins["dagster"], "dagster-postgres": pins["dagster-postgres"]}
