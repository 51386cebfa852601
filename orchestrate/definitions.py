"""The Dagster code location: ``-m orchestrate.definitions`` (``dagster job execute``, ``dagster-daemon run``).

One graph, two executors:
- ``ads_shards``: the multiprocess executor, every shard of orchestrate/shards.meltano.yml at once on this
  machine (``job.max_concurrent`` in orchestrate/shards.yml caps it);
- ``ads_shards_celery``: the Celery executor, each step on whichever worker takes it (worker.py starts one),
  broker and result backend from ORCHESTRATE_CELERY_BROKER and ORCHESTRATE_CELERY_BACKEND.

Steps: ``meltano upgrade database`` once (parallel first runs would race on the migrations), then one op
per shard running ``meltano run --no-install <shard> <loader>`` (never ``--force``: Meltano refuses a second
run of a shard that is running; ``--no-install``: plugins are installed once per run directory, when a worker
starts, never by shards racing each other to install their common parent), then the models
(``meltano run <job.models>``) once every shard has landed. ``job.queues`` pins a tap's shards to a Celery queue.
A daily schedule runs the job named by ORCHESTRATE_EXECUTOR (``multiprocess``, the default, or ``celery``).
"""

# No `from __future__ import annotations`: Dagster reads the ops' context annotations at definition time.

import os

import dagster as dg
from dagster_celery import celery_executor
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from orchestrate import meltano_command
from orchestrate.project import Project, current
from orchestrate.shards import Shard

# A shard that fails for another reason than a refusal (a first run racing another shard to create a table
# or column in the warehouse, a network blip) is tried again; Meltano resumes it from its saved state.
SHARD_RETRIES = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
CELERY_SETTINGS = {
    "broker": {"env": "ORCHESTRATE_CELERY_BROKER"},
    "backend": {"env": "ORCHESTRATE_CELERY_BACKEND"},
    # One step per worker slot at a time: a prefetched shard would wait behind another on a busy worker.
    "config_source": {"worker_prefetch_multiplier": 1, "broker_connection_retry_on_startup": True},
}


def op_name(plugin: str) -> str:
    return plugin.replace("-", "_")


def _check(outcome: meltano_command.Outcome) -> None:
    if outcome.returncode == 0:
        return
    description = f"`{' '.join(outcome.command[1:])}` exited {outcome.returncode}:\n{outcome.tail}"
    if outcome.refused_as_running:
        # Another run of this shard holds its state id: trying again would only be refused again.
        raise dg.Failure(description=description, allow_retries=False)
    raise dg.Failure(description=description)


def migrate_op(project: Project) -> dg.OpDefinition:
    @dg.op(name="migrate_system_database", out=dg.Out(dg.Nothing))
    def migrate_system_database() -> None:
        """``meltano upgrade database``: once, before the shards fan out."""
        _check(meltano_command.run(project.root, "upgrade", "database"))

    return migrate_system_database


def shard_op(project: Project, shard: Shard, loader: str, queue: str | None = None) -> dg.OpDefinition:
    tags = {"shard": shard.name, "tap": shard.tap}
    if queue:
        tags[DAGSTER_CELERY_QUEUE_TAG] = queue

    @dg.op(
        name=op_name(shard.name),
        ins={"migrated": dg.In(dg.Nothing)},
        out=dg.Out(dg.Nothing),
        retry_policy=SHARD_RETRIES,
        tags=tags,
        description=f"meltano run {shard.name} {loader} ({len(shard.accounts)} {shard.setting})",
    )
    def run_shard(context: dg.OpExecutionContext) -> None:
        context.log.info("%s: %d %s into %s", shard.name, len(shard.accounts), shard.setting, loader)
        _check(meltano_command.run(project.root, "run", "--no-install", shard.name, loader))

    return run_shard


def models_op(project: Project, models: tuple[str, ...]) -> dg.OpDefinition:
    @dg.op(name="warehouse_models", ins={"landed": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing))
    def warehouse_models(context: dg.OpExecutionContext) -> None:
        """The warehouse models, once every shard has landed."""
        if not models:
            context.log.info("No models configured (job.models in orchestrate/shards.yml)")
            return
        _check(meltano_command.run(project.root, "run", "--no-install", *models))

    return warehouse_models


def build(project: Project) -> dg.Definitions:
    settings = project.job()
    shards = project.shards()
    migrate = migrate_op(project)
    shard_ops = [shard_op(project, shard, settings.loader, settings.queues.get(shard.tap)) for shard in shards]
    models = models_op(project, settings.models)

    @dg.graph(name="ad_shards")
    def ad_shards() -> None:
        migrated = migrate()
        models([run_shard(migrated) for run_shard in shard_ops])

    concurrency = settings.max_concurrent or max(len(shards), 1)
    # forkserver: each step forks from a process that has imported Dagster and this module once, instead of
    # spawning a fresh interpreter that imports them again (seconds of CPU per shard on a small machine).
    local = ad_shards.to_job(
        name="ads_shards",
        executor_def=dg.multiprocess_executor.configured(
            {"max_concurrent": concurrency, "start_method": {"forkserver": {}}}
        ),
    )
    distributed = ad_shards.to_job(name="ads_shards_celery", executor_def=celery_executor.configured(CELERY_SETTINGS))
    scheduled = distributed if os.environ.get("ORCHESTRATE_EXECUTOR") == "celery" else local
    daily = dg.ScheduleDefinition(
        name="daily_ads_shards", job=scheduled, cron_schedule=settings.schedule, execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return dg.Definitions(jobs=[local, distributed], schedules=[daily])


defs = build(current())
