"""The tables the taps land, as one graph-backed multi-asset whose ops are the shards.

    prepare_run ──> tap_rokt__shard_1 ─┐
                ├─> tap_rokt__shard_2 ─┴─> tap_rokt_landed ──> tap_rokt/accounts, tap_rokt/campaign_report, ...
                └─> tap_adroll__shard_1 ──> tap_adroll_landed ──> tap_adroll/advertisable_report, ...

Every shard of a tap lands in the same tables (``namespace: tap_rokt``), so a table is one asset fed by all of
its tap's shards: each shard is its own step (in parallel, on any Celery worker, or on its tap's queue and
pool), and records what its run said per table as an observation of that table; ``<namespace>_landed`` then
materializes the tap's tables with the figures summed over the shards. Selecting some taps' tables runs only
their shards. ``prepare_run`` refuses a run beside another (run_guard.py), then runs ``meltano upgrade
database`` once, before the shards fan out (parallel first runs would race on the migrations).

Config ``start_date`` / ``end_date`` (``YYYY-MM-DD``; the end day not included): re-extract that range, for a
restatement or a new report, without moving the bookmarks: each shard runs with those dates as its settings,
``--full-refresh`` (no bookmark read), ``--no-state-update`` (none written) and its own state id suffix
(``restatement``), so the incremental runs neither see nor block it; the loader upserts the range.
"""

# No `from __future__ import annotations`: Dagster reads the ops' context annotations at definition time.

import datetime as dt
import os
import re
import typing as t
from pathlib import Path

import dagster as dg
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from orchestrate import meltano_command, run_guard
from orchestrate.project import JobSettings, Project
from orchestrate.shards import Shard
from orchestrate.tables import landed_tables
from orchestrate.tap_logs import StreamFigures, TapLog

ASSET_NAME = "landed_tables"
RESTATEMENT_SUFFIX = "restatement"
# A shard that fails for another reason than a refusal (a first run racing another shard to create a table
# or column in the warehouse, a network blip) is tried again; Meltano resumes it from its saved state.
SHARD_RETRIES = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
RANGE_SCHEMA = {
    "start_date": dg.Field(str, default_value="", description="First report day to re-extract (YYYY-MM-DD)"),
    "end_date": dg.Field(str, default_value="", description="First report day not to re-extract (default: today)"),
}


def op_name(plugin: str) -> str:
    return plugin.replace("-", "_")


def output_name(namespace: str, table: str) -> str:
    return f"{namespace}__{table}"


def setting_variable(plugin: str, setting: str) -> str:
    """The environment variable Meltano reads a plugin's setting from (``TAP_ROKT__SHARD_1_START_DATE``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", f"{plugin}_{setting}").upper()


def check(outcome: meltano_command.Outcome) -> None:
    if outcome.returncode == 0:
        return
    description = f"`{' '.join(outcome.command[1:])}` exited {outcome.returncode}:\n{outcome.tail}"
    if outcome.refused_as_running:
        # Another run of this shard holds its state id: trying again would only be refused again.
        raise dg.Failure(description=description, allow_retries=False)
    raise dg.Failure(description=description)


def restatement(config: t.Mapping[str, str]) -> tuple[str, str] | None:
    """The range to re-extract, checked; None for an incremental run."""
    start, end = config.get("start_date") or "", config.get("end_date") or ""
    if not start and not end:
        return None
    try:
        first = dt.date.fromisoformat(start)
        stop = dt.date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise dg.Failure(description=f"start_date and end_date are days, YYYY-MM-DD: {exc}", allow_retries=False) from exc
    if stop is not None and stop <= first:
        raise dg.Failure(description=f"end_date {end} must come after start_date {start}", allow_retries=False)
    return start, end


def meltano_run_arguments(shard: Shard, loader: str, range_: tuple[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """``meltano`` arguments and environment of one shard's run."""
    if range_ is None:
        # Never --force: Meltano refuses a second run of a shard that is running.
        return ["run", "--no-install", shard.name, loader], {}
    start, end = range_
    # Meltano refuses a setting set by more than one variable (the shard's own TAP_ROKT__SHARD_1_START_DATE, its
    # parent's TAP_ROKT_START_DATE): the range replaces, in this run only, the one the deployment uses, else the
    # parent's, which every shard inherits.
    env = {}
    for setting, day in (("start_date", start), ("end_date", end)):
        own = setting_variable(shard.name, setting)
        if day:
            env[own if own in os.environ else setting_variable(shard.tap, setting)] = day
    return ["run", "--no-install", "--full-refresh", "--no-state-update", "--state-id-suffix", RESTATEMENT_SUFFIX,
            shard.name, loader], env


def _prepare_op(project: Project, job_names: list[str]) -> dg.OpDefinition:
    @dg.op(name="prepare_run", out=dg.Out(dg.Nothing))
    def prepare_run(context: dg.OpExecutionContext) -> None:
        """One run at a time; ``meltano upgrade database`` once, before the shards fan out."""
        run_guard.refuse_if_another_runs(context, job_names)
        check(meltano_command.run(project.root, "upgrade", "database"))

    return prepare_run


def _shard_op(project: Project, shard: Shard, settings: JobSettings, namespace: str, tables: list[str]) -> dg.OpDefinition:
    tags = {"shard": shard.name, "tap": shard.tap}
    if queue := settings.queues.get(shard.tap):
        tags[DAGSTER_CELERY_QUEUE_TAG] = queue

    @dg.op(
        name=op_name(shard.name),
        ins={"ready": dg.In(dg.Nothing)},
        out=dg.Out(dg.Nothing),
        config_schema=RANGE_SCHEMA,
        retry_policy=SHARD_RETRIES,
        tags=tags,
        pool=settings.pools.get(shard.tap),
        description=f"meltano run {shard.name} {settings.loader} ({len(shard.accounts)} {shard.setting})",
    )
    def run_shard(context: dg.OpExecutionContext) -> t.Iterator[dg.AssetObservation | dg.Output]:
        range_ = restatement(context.op_config)
        arguments, env = meltano_run_arguments(shard, settings.loader, range_)
        context.log.info("%s: %d %s into %s%s", shard.name, len(shard.accounts), shard.setting, settings.loader,
                         f", re-extracting {range_[0]}..{range_[1] or 'today'}" if range_ else "")
        log = TapLog(shard.name)
        check(meltano_command.run(project.root, *arguments, env=env, on_line=log.feed))
        for stream, figures in log.figures().items():
            if stream in tables:
                yield dg.AssetObservation(asset_key=dg.AssetKey([namespace, stream]),
                                          metadata={"shard": shard.name, **figures.metadata()})
        yield dg.Output(None)

    return run_shard


def _landed_op(namespace: str, tables: list[str], shards: list[Shard]) -> dg.OpDefinition:
    @dg.op(
        name=f"{namespace}_landed",
        ins={op_name(shard.name): dg.In(dg.Nothing) for shard in shards},
        out={output_name(namespace, table): dg.Out(dg.Nothing, is_required=False) for table in tables},
        description=f"The tables of {namespace}, with what its {len(shards)} shard(s) said",
    )
    def landed(context: dg.OpExecutionContext) -> t.Iterator[dg.Output]:
        for table in tables:
            name = output_name(namespace, table)
            if name not in context.selected_output_names:
                continue
            total = StreamFigures()
            observations = context.instance.fetch_observations(dg.AssetKey([namespace, table]), limit=10 * len(shards))
            for record in observations.records:
                observation = record.asset_observation
                if record.run_id == context.run_id and observation is not None:
                    total.add(StreamFigures.from_metadata({k: v.value for k, v in observation.metadata.items()}))
            yield dg.Output(None, output_name=name, metadata={**total.metadata(), "shards": len(shards)})

    return landed


def landing_asset(project: Project, shards: list[Shard], settings: JobSettings, manifest: t.Mapping[str, t.Any] | None,
                  job_names: list[str]) -> dg.AssetsDefinition | None:
    """The graph-backed multi-asset of every tap's tables; None without shards."""
    if not shards:
        return None
    meltano_yml = Path(project.root) / "meltano.yml"
    by_tap: dict[str, list[Shard]] = {}
    for shard in shards:
        by_tap.setdefault(shard.tap, []).append(shard)
    outs: dict[str, dg.AssetOut] = {}
    tap_tables: dict[str, tuple[str, list[str]]] = {}
    for tap in by_tap:
        namespace, tables = landed_tables(meltano_yml, tap, manifest)
        tap_tables[tap] = (namespace, tables)
        for table in tables:
            outs[output_name(namespace, table)] = dg.AssetOut(
                key=dg.AssetKey([namespace, table]), group_name=namespace, kinds={"meltano", "postgres"},
                description=f"Stream {table} of {tap}, landed by {settings.loader} in schema {namespace}",
                is_required=False,
            )
    prepare = _prepare_op(project, job_names)
    shard_ops = {
        shard.name: _shard_op(project, shard, settings, *tap_tables[shard.tap]) for shard in shards
    }
    landed_ops = {tap: _landed_op(*tap_tables[tap], members) for tap, members in by_tap.items()}
    config = dg.ConfigMapping(
        config_schema=RANGE_SCHEMA,
        config_fn=lambda values: {op_name(shard.name): {"config": dict(values)} for shard in shards},
    )

    @dg.graph_multi_asset(name=ASSET_NAME, outs=outs, can_subset=True, config=config)
    def landed_tables_graph() -> dict[str, t.Any]:
        ready = prepare()
        results: dict[str, t.Any] = {}
        for tap, members in by_tap.items():
            namespace, tables = tap_tables[tap]
            handles = landed_ops[tap](**{op_name(shard.name): shard_ops[shard.name](ready) for shard in members})
            names = [output_name(namespace, table) for table in tables]
            results.update(zip(names, handles if len(names) > 1 else [handles], strict=True))
        return results

    return landed_tables_graph
