"""The Dagster code location: ``-m orchestrate.definitions`` (``dagster job execute``, ``dagster-daemon run``,
the UI through orchestrate/workspace.yaml).

Assets:
- ``landed_tables`` (landing.py): every table a tap lands, keyed as the dbt sources name it
  (``tap_rokt/campaign_report``), materialized by the tap's shards (one step each: in parallel, on Celery);
- ``warehouse_models`` (transform.py): the dbt models of transform/ (staging views, the four unified tables), with
  dbt's tests, the reconciliation included, as asset checks; built by ``dbt build`` once their sources have landed.

Two jobs of all of it, one per executor:
- ``ads_shards``: the multiprocess executor, every shard at once on this machine (``job.max_concurrent`` caps it);
- ``ads_shards_celery``: the Celery executor, each step on whichever worker takes it (worker.py starts one),
  broker and result backend from ORCHESTRATE_CELERY_BROKER and ORCHESTRATE_CELERY_BACKEND; ``job.queues`` pins a
  tap's shards to a queue.
One run of them at a time (run_guard.py); ``job.pools`` gives a tap's shards a concurrency pool (AdRoll's quota);
the daemon fails a run still going after ``job.max_runtime_minutes``. The daily schedule (``job.schedule``) runs
the job named by ORCHESTRATE_EXECUTOR (``multiprocess``, the default, or ``celery``); it ships stopped.
"""

import os

import dagster as dg
from dagster_celery import celery_executor

from orchestrate import landing, run_guard, transform
from orchestrate.project import Project, current

JOB_NAMES = ["ads_shards", "ads_shards_celery"]
CELERY_SETTINGS = {
    "broker": {"env": "ORCHESTRATE_CELERY_BROKER"},
    "backend": {"env": "ORCHESTRATE_CELERY_BACKEND"},
    # One step per worker slot at a time: a prefetched shard would wait behind another on a busy worker.
    "config_source": {"worker_prefetch_multiplier": 1, "broker_connection_retry_on_startup": True},
}


def build(project: Project) -> dg.Definitions:
    settings = project.job()
    manifest_path = transform.manifest(project, settings.dbt) if settings.dbt else None
    manifest = transform.read_manifest(manifest_path)
    assets: list[dg.AssetsDefinition] = []
    landed = landing.landing_asset(project, project.shards(), settings, manifest, JOB_NAMES)
    if landed is not None:
        assets.append(landed)
    resources = {}
    if manifest_path is not None:
        assets.append(transform.models_asset(manifest_path))
        resources["dbt"] = transform.resource(project, settings.dbt)

    tags = {run_guard.RUN_TAG: "1", "dagster/max_runtime": str(settings.max_runtime_minutes * 60)}
    concurrency = settings.max_concurrent or max(len(project.shards()), 1)
    # forkserver: each step forks from a process that has imported Dagster and this module once, instead of
    # spawning a fresh interpreter that imports them again (seconds of CPU per shard on a small machine).
    local_executor = dg.multiprocess_executor.configured(
        {"max_concurrent": concurrency, "start_method": {"forkserver": {}}}
    )
    everything = dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks()
    local = dg.define_asset_job("ads_shards", selection=everything, executor_def=local_executor, tags=tags)
    distributed = dg.define_asset_job("ads_shards_celery", selection=everything,
                                      executor_def=celery_executor.configured(CELERY_SETTINGS), tags=tags)
    scheduled = distributed if os.environ.get("ORCHESTRATE_EXECUTOR") == "celery" else local
    daily = dg.ScheduleDefinition(
        name="daily_ads_shards", job=scheduled, cron_schedule=settings.schedule, execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    return dg.Definitions(assets=assets, jobs=[local, distributed], schedules=[daily], resources=resources)


defs = build(current())
