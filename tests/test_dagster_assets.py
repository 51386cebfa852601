"""The sharded job as Dagster assets (orchestrate/landing.py, orchestrate/transform.py), against the three emulators
and one embedded PostgreSQL for the module: the asset graph from each tap's tables to the unified tables with dbt's
tests as checks, every asset materialized in process with the figures of one serial run of each tap, a broken
reconciliation as a failed check, a restatement range that moves no bookmark, and a second run refused while the
first is going. The definitions are built in this process, with the environment a deployment sets.
"""

from __future__ import annotations

import json
import typing as t

import dagster as dg
import pytest
from orchestration import Gate, Stack, landed, serial_run, wait_until
from postgres import postgres_server
from sources import BY_TAP

from emulators.adroll import AdRollEmulator
from emulators.mediamath import MediaMathEmulator
from emulators.rokt import RoktEmulator

START, END = "2025-03-01", "2025-03-06"
ROKT, ADROLL, MEDIAMATH = BY_TAP["tap-rokt"], BY_TAP["tap-adroll"], BY_TAP["tap-mediamath"]
# The streams each tap selects in meltano.yml: every one is a table, keyed <namespace>/<stream>.
LANDED = {
    "tap_rokt": ["accounts", "campaign_report_fields", "transaction_report_fields", "campaign_report", "transaction_report"],
    "tap_adroll": ["organization", "advertisables", "campaigns", "ad_groups", "ads", "segments", "ad_report",
                   "campaign_report", "advertisable_report"],
    "tap_mediamath": ["performance"],
}
UNIFIED = ["ad_reporting__account_report", "ad_reporting__campaign_report", "ad_reporting__ad_group_report",
           "ad_reporting__ad_report"]
RECONCILIATION = "reconciles_with_report_streams"


class Deployment(t.NamedTuple):
    stack: Stack
    defs: dg.Definitions
    instance: dg.DagsterInstance
    emulators: dict[str, t.Any]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from orchestrate.definitions import build
    from orchestrate.project import Project

    with (postgres_server() as server, RoktEmulator(accounts=3) as rokt, AdRollEmulator() as adroll,
          MediaMathEmulator() as mediamath):
        emulators = {"tap-rokt": rokt, "tap-adroll": adroll, "tap-mediamath": mediamath}
        taps = {
            "tap-rokt": (list(rokt.accounts), 2),
            "tap-adroll": ([row["eid"] for row in adroll.advertisables], 1),
            "tap-mediamath": (sorted({s.attrs["advertiser_id"] for s in mediamath.strategies if s.org_id == 100001}), 1),
        }
        settings = {key: value for tap, emulator in emulators.items()
                    for key, value in BY_TAP[tap].env(BY_TAP[tap].settings(emulator.url, START, END)).items()}
        stack = Stack(server, tmp_path_factory.mktemp("assets"), "assets", taps, settings, dbt="dbt-postgres",
                      job={"pools": {"tap-adroll": "adroll"}})
        with pytest.MonkeyPatch.context() as patch:
            for name, value in stack.env.items():
                patch.setenv(name, value)
            defs = build(Project(stack.project))
            with dg.DagsterInstance.get() as instance:
                yield Deployment(stack, defs, instance, emulators)
        stack.close()


@pytest.fixture(scope="module")
def first_run(deployment):
    """The whole job, in process: every table, model and check."""
    job = deployment.defs.resolve_job_def("ads_shards")
    result = job.execute_in_process(instance=deployment.instance, raise_on_error=False)
    assert result.success, [event.message for event in result.all_events if event.is_failure][:3]
    return result


def _key(*path: str) -> dg.AssetKey:
    return dg.AssetKey(list(path))


def _unified_key(name: str, graph) -> dg.AssetKey:
    return next(key for key in graph.get_all_asset_keys() if key.path[-1] == name)


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    found, frontier = set(), [key]
    while frontier:
        parents = set(graph.get(frontier.pop()).parent_keys) - found
        found |= parents
        frontier.extend(parents)
    return found


def _manifest(deployment: Deployment) -> dict:
    from orchestrate import transform
    from orchestrate.project import Project

    return json.loads(transform.manifest(Project(deployment.stack.project), "dbt-postgres").read_text())


def test_the_asset_graph_is_the_landed_tables_then_the_models_with_their_tests_as_checks(deployment):
    graph = deployment.defs.resolve_asset_graph()
    manifest = _manifest(deployment)
    models = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    tables = {_key(namespace, table) for namespace, streams in LANDED.items() for table in streams}
    # Every source the models read is a landed table (dbt names them as the taps' namespaces do).
    assert {_key(s["source_name"], s["name"]) for s in manifest["sources"].values()} <= tables

    keys = set(graph.get_all_asset_keys())
    assert {key for key in keys if key.path[0].startswith("tap_")} == tables
    assert {key.path[-1] for key in keys if not key.path[0].startswith("tap_")} == models
    assert all(graph.get(key).is_materializable for key in keys)
    # The tables come from the shards' graph-backed asset, the models from dbt.
    landed_node = graph.get(_key("tap_rokt", "campaign_report"))
    assert landed_node.assets_def.node_def.name == "landed_tables"
    assert {op.name for op in landed_node.assets_def.node_def.node_defs} == {
        "prepare_run", "tap_rokt__shard_1", "tap_rokt__shard_2", "tap_adroll__shard_1", "tap_mediamath__shard_1",
        "tap_rokt_landed", "tap_adroll_landed", "tap_mediamath_landed"}

    # Lineage: each unified table reaches back to the report streams it reconciles with.
    for name, sources in {
        "ad_reporting__account_report": {("tap_rokt", "campaign_report"), ("tap_adroll", "advertisable_report"),
                                         ("tap_mediamath", "performance")},
        "ad_reporting__ad_report": {("tap_adroll", "ad_report")},
    }.items():
        upstream = _ancestors(graph, _unified_key(name, graph))
        assert {_key(*source) for source in sources} <= upstream

    # dbt's tests are the checks, each on the model it tests; the reconciliation on each unified table.
    checks = set(graph.asset_check_keys)
    assert len(checks) == len(tests)
    reconciliations = {(check.asset_key.path[-1]) for check in checks if check.name.startswith(RECONCILIATION)}
    assert reconciliations == set(UNIFIED)
    assert {check.asset_key.path[-1] for check in checks} <= models

    # The jobs carry the run-queue tag and a stated maximum runtime; the schedule ships stopped.
    job = deployment.defs.resolve_job_def("ads_shards")
    assert job.tags["orchestrate/ads"] == "1"
    assert job.tags["dagster/max_runtime"] == str(240 * 60)
    schedule = deployment.defs.resolve_schedule_def("daily_ads_shards")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    # AdRoll's shard takes a slot of the adroll pool (dagster.yaml: one slot per pool).
    shard_ops = {op.name: op for op in landed_node.assets_def.node_def.node_defs}
    assert (shard_ops["tap_adroll__shard_1"].pool, shard_ops["tap_rokt__shard_1"].pool) == ("adroll", None)


def _metadata(event) -> dict:
    return {name: value.value for name, value in event.materialization.metadata.items()}


def test_every_asset_materializes_with_the_rows_of_one_serial_run_and_every_check_passes(deployment, first_run):
    materialized = {event.asset_key: _metadata(event) for event in first_run.get_asset_materialization_events()}
    graph = deployment.defs.resolve_asset_graph()
    assert set(materialized) == set(graph.get_all_asset_keys())

    for tap, emulator in deployment.emulators.items():
        source = BY_TAP[tap]
        expected = serial_run(source, source.settings(emulator.url, START, END))
        figures = {key.path[1]: values for key, values in materialized.items() if key.path[0] == source.schema}
        assert {stream: values["rows"] for stream, values in figures.items() if values["rows"]} == expected["counts"]
        # What landed is what the run said, exactly once per key.
        warehouse = landed(deployment.stack, source)
        assert {table: count for table, count in warehouse["counts"].items() if table in figures} == expected["counts"]
        assert warehouse["spend"] == expected["spend"]
        assert warehouse["duplicates"] == 0
        # Report streams: the report days asked for, and the requests the tap counted.
        report = figures[source.spend_table]
        assert (report["first_report_day"], report["last_report_day"]) == ("2025-03-01", "2025-03-05")
        assert report["requests"] >= 1
        assert report["shards"] == (2 if tap == "tap-rokt" else 1)

    rokt_report = materialized[_key("tap_rokt", "campaign_report")]
    # One request per account and 5-day window (the default windows hold the whole range).
    assert rokt_report["requests"] == 3
    assert rokt_report["windows"] == 3

    evaluations = first_run.get_asset_check_evaluations()
    assert {evaluation.asset_check_key for evaluation in evaluations} == set(graph.asset_check_keys)
    assert [evaluation.check_name for evaluation in evaluations if not evaluation.passed] == []
    unified = {_unified_key(name, graph): name for name in UNIFIED}
    rows = {name: deployment.stack.query("warehouse", f"select count(*) from ad_reporting.{name}")[0][0] for name in UNIFIED}
    assert all(rows.values())
    for key, name in unified.items():
        assert materialized[key]  # dbt's own metadata for the table it built
        assert rows[name] > 0


def _reconciliations(deployment: Deployment) -> dict[str, bool]:
    graph = deployment.defs.resolve_asset_graph()
    checks = [check for check in graph.asset_check_keys if check.name.startswith(RECONCILIATION)]
    models = graph.get(_unified_key(UNIFIED[0], graph)).assets_def  # dbt's assets, with every test as a check
    result = dg.materialize([models], selection=dg.AssetSelection.checks(*checks), instance=deployment.instance,
                            raise_on_error=False)
    return {e.asset_check_key.asset_key.path[-1]: e.passed for e in result.get_asset_check_evaluations()}


def test_a_broken_reconciliation_is_a_failed_check_on_the_tables_it_concerns(deployment, first_run):
    stack = deployment.stack
    # One Rokt report row gains a cent after the unified tables were built: Rokt's campaign_report feeds the
    # account and campaign levels, not the ad group and ad levels.
    change = ("update tap_rokt.campaign_report set gross_cost = gross_cost + %s "
              "where ctid = (select min(ctid) from tap_rokt.campaign_report where gross_cost > 0)")
    stack.execute("warehouse", change, 0.01)
    try:
        assert _reconciliations(deployment) == {
            "ad_reporting__account_report": False, "ad_reporting__campaign_report": False,
            "ad_reporting__ad_group_report": True, "ad_reporting__ad_report": True}
    finally:
        stack.execute("warehouse", change, -0.01)
    assert set(_reconciliations(deployment).values()) == {True}


def test_a_date_range_reextracts_it_without_moving_any_bookmark(deployment, first_run):
    stack = deployment.stack
    before, rows_before = stack.states(), landed(stack, ROKT)
    job = deployment.defs.resolve_job_def("ads_shards")
    rokt_tables = [_key("tap_rokt", stream) for stream in LANDED["tap_rokt"]]
    result = job.execute_in_process(
        instance=deployment.instance, asset_selection=rokt_tables,
        run_config={"ops": {"landed_tables": {"config": {"start_date": "2025-03-02", "end_date": "2025-03-04"}}}},
    )
    assert result.success
    report = next(_metadata(e) for e in result.get_asset_materialization_events()
                  if e.asset_key == _key("tap_rokt", "campaign_report"))
    assert (report["first_report_day"], report["last_report_day"]) == ("2025-03-02", "2025-03-03")
    rokt = deployment.emulators["tap-rokt"]
    assert report["rows"] == serial_run(ROKT, ROKT.settings(rokt.url, "2025-03-02", "2025-03-04"))["counts"]["campaign_report"]
    # The bookmarks are those of the incremental run; no state was written for the range.
    assert stack.states() == before
    assert landed(stack, ROKT) == rows_before  # upserted, not added


def test_a_second_run_while_one_is_going_is_refused_not_run_beside_it(deployment, first_run):
    stack = deployment.stack
    rokt = deployment.emulators["tap-rokt"]
    gate = Gate(rokt, rf"/v1/query/accounts/{next(iter(rokt.accounts))}/campaigns/?$")
    first = stack.launch("ads_shards", name="first")
    try:
        wait_until(lambda: gate.reached.is_set() or first.popen.poll() is not None, 240, "the first run's shard")
        assert gate.reached.is_set(), first.text()[-3000:]
        second = stack.launch("ads_shards", name="second")
        assert second.wait() != 0
        assert "Refused: run " in second.text()
        runs = deployment.instance.get_run_records(dg.RunsFilter(job_name="ads_shards"), limit=2)
        refused, going = runs[0].dagster_run, runs[1].dagster_run
        assert (refused.status, going.status) == (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.STARTED)
        # Nothing of the refused run ran but its first step.
        started = {e.step_key for e in deployment.instance.all_logs(refused.run_id, of_type=dg.DagsterEventType.STEP_START)}
        assert started == {"landed_tables.prepare_run"}
    finally:
        gate.open()
    assert first.wait() == 0, first.text()[-3000:]
