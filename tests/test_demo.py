"""`make demo` after real runs: in a fresh clone, prod and dev each run as users run them (prod's URLs pointed at
emulators through environment variables, its only difference from the real thing), then the demo runs as `make
demo` runs it. The demo writes its own warehouse and state ids only: prod's and dev's warehouse files keep their
bytes, their state ids their values, and other files in output/ stay. And the demo refuses, in one line and
before doing anything, to write a file it did not make."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re

import duckdb
import pytest
from fresh_clone import FreshClone
from sources import SOURCES

from emulators import emulator_class

START, END = "2025-03-01", "2025-03-08"
TAPS = [source.tap for source in SOURCES]
DEMO = ("scripts/demo.py",)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> FreshClone:
    return FreshClone(tmp_path_factory.mktemp("clone"), {"extractors": TAPS, "loader": ["target-duckdb"], "utility": ["dbt-duckdb"]})


@pytest.fixture(scope="module")
def emulators():
    with contextlib.ExitStack() as stack:
        yield {source.provider: stack.enter_context(emulator_class(source.provider)()) for source in SOURCES}


def _tables(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as db:
        names = db.execute("select table_schema || '.' || table_name from information_schema.tables order by 1").fetchall()
        return {name: db.execute(f"select count(*) from {name}").fetchone()[0] for (name,) in names}


def _states(clone: FreshClone) -> dict[str, dict]:
    ids = clone.meltano("state", "list").stdout.split()
    return {state_id: json.loads(clone.meltano("state", "get", state_id).stdout) for state_id in ids}


def _snapshot(clone: FreshClone, *, values: bool = True) -> dict:
    """Every file under output/ with its digest, and every state id with its value (or the ids alone: one meltano
    command instead of one per id)."""
    output = clone.root / "output"
    files = {str(path.relative_to(output)): hashlib.sha256(path.read_bytes()).hexdigest() for path in output.rglob("*") if path.is_file()}
    return {"files": files, "states": _states(clone) if values else sorted(clone.meltano("state", "list").stdout.split())}


@pytest.fixture(scope="module")
def after_prod_and_dev(clone, emulators) -> dict:
    """prod's three sources, then dev's Rokt source, landed; a file of the user's own in output/."""
    prod = {"MELTANO_ENVIRONMENT": "prod"}
    for source in SOURCES:  # every prod setting from the environment, as the README's prod section says
        prod.update(source.env(source.settings(emulators[source.provider].url, START, END)))
    clone.meltano("run", *[block for tap in TAPS for block in (tap, "target-duckdb")], env=prod)
    rokt = SOURCES[0]
    clone.meltano("run", "tap-rokt", "target-duckdb", env=rokt.env(rokt.settings(emulators["rokt"].url, START, END)))
    (clone.root / "output" / "notes.txt").write_text("a file of the user's own\n")
    return _snapshot(clone)


def test_the_demo_refuses_to_write_a_file_it_did_not_make_in_one_line_before_anything(clone, after_prod_and_dev):
    for named in ("output/warehouse.duckdb", str(clone.root / "output" / "dev.duckdb"), "elsewhere.duckdb"):
        done = clone.python(*DEMO, env={"TARGET_DUCKDB_FILEPATH": named})
        assert (done.returncode, done.stdout) == (2, "")  # stdout empty: nothing started, no emulators, no step
        assert done.stderr == (
            f"demo: TARGET_DUCKDB_FILEPATH names {named}, but the demo writes only its own warehouse, output/demo/warehouse.duckdb: "
            "unset TARGET_DUCKDB_FILEPATH and run the demo again\n"
        )
    assert not (clone.root / "output" / "demo").exists()

    folder = clone.root / "output" / "demo"
    folder.mkdir()
    (folder / "warehouse.duckdb").write_text("someone else's\n")
    try:
        done = clone.python(*DEMO)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == "demo: output/demo/ was not made by the demo, which would overwrite it: move it away and run the demo again\n"
        assert (folder / "warehouse.duckdb").read_text() == "someone else's\n"
    finally:
        (folder / "warehouse.duckdb").unlink()
        folder.rmdir()
    # Same bytes everywhere, the same state ids (the values are compared after the demo's full run, below).
    assert _snapshot(clone, values=False) == {**after_prod_and_dev, "states": sorted(after_prod_and_dev["states"])}


def test_make_demo_after_prod_and_dev_runs_leaves_their_warehouses_and_state_alone(clone, after_prod_and_dev):
    before = after_prod_and_dev
    assert sorted(before["files"]) == [".gitignore", "dev.duckdb", "notes.txt", "warehouse.duckdb"]
    assert sorted(before["states"]) == sorted([*(f"prod:{tap}-to-target-duckdb" for tap in TAPS), "dev:tap-rokt-to-target-duckdb"])
    prod_tables = _tables(clone.root / "output" / "warehouse.duckdb")
    assert {name.split(".")[0] for name in prod_tables} == {"tap_rokt", "tap_adroll", "tap_mediamath"}

    # A shell that has run prod: its settings are in the environment and in .env (both left out of the demo's runs).
    (clone.root / ".env").write_text("TAP_ROKT_APP_ID=prod-app-id\nTARGET_DUCKDB_FILEPATH=output/warehouse.duckdb\n")
    try:
        done = clone.python(*DEMO, env={"TAP_ADROLL_API_KEY": "prod-client-id", "MELTANO_ENVIRONMENT": "prod"})
    finally:
        (clone.root / ".env").unlink()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the demo runs on its own settings: leaving out TAP_ADROLL_API_KEY" in done.stdout

    after = _snapshot(clone)
    demo_files = {name for name in after["files"] if name.startswith("demo/")}
    assert demo_files == {"demo/.created-by-demo", "demo/warehouse.duckdb"}
    assert {name: after["files"][name] for name in before["files"]} == before["files"]  # same bytes: prod, dev, the user's
    assert set(after["files"]) - demo_files == set(before["files"])
    demo_ids = [f"dev:{tap}-to-target-duckdb:demo" for tap in TAPS]
    assert {state_id: after["states"][state_id] for state_id in before["states"]} == before["states"]
    assert sorted(after["states"]) == sorted([*before["states"], *demo_ids])
    assert _tables(clone.root / "output" / "warehouse.duckdb") == prod_tables

    # What the demo printed is its own warehouse's content: the same rows after its second, incremental run.
    demo_tables = _tables(clone.root / "output" / "demo" / "warehouse.duckdb")
    landed = sum(rows for name, rows in demo_tables.items() if name.split(".")[0] in {"tap_rokt", "tap_adroll", "tap_mediamath"})
    assert f"warehouse rows: {landed} before, {landed} after (unchanged" in done.stdout
    outcomes = re.findall(r"dbt build: PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", done.stdout)
    assert len(outcomes) == 2 and outcomes[0] == outcomes[1] and outcomes[0][1:] == ("0", "0", "0"), outcomes
