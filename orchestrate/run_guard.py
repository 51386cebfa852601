"""One run of the sharded job at a time.

Runs launched through the run queue (the schedule, the UI, ``dagster job launch``) wait there: the jobs carry
the tag ``RUN_TAG`` and dagster.yaml allows one run with it at once. A run started beside the queue
(``dagster job execute``, an in-process ``materialize``) is checked at its first step: when another run of
these jobs started earlier and has not ended, this one is refused (it fails before landing anything).
"""

from __future__ import annotations

import dagster as dg

RUN_TAG = "orchestrate/ads"  # value "1": at most one run with it at a time (dagster.yaml, concurrency.runs)
UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def earlier_run(instance: dg.DagsterInstance, run_id: str, job_names: list[str]) -> dg.RunRecord | None:
    """The oldest unfinished run of ``job_names`` created before ``run_id``, if there is one."""
    mine = instance.get_run_record_by_id(run_id)
    if mine is None:
        return None
    others = [
        record
        for job_name in job_names
        for record in instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=UNFINISHED))
        if record.dagster_run.run_id != run_id
        and (record.create_timestamp, record.dagster_run.run_id) < (mine.create_timestamp, run_id)
    ]
    return min(others, key=lambda record: record.create_timestamp, default=None)


def refuse_if_another_runs(context: dg.OpExecutionContext, job_names: list[str]) -> None:
    other = earlier_run(context.instance, context.run_id, job_names)
    if other is not None:
        run = other.dagster_run
        raise dg.Failure(
            description=(
                f"Refused: run {run.run_id} of {run.job_name} ({run.status.value} since "
                f"{other.create_timestamp:%Y-%m-%d %H:%M:%S} UTC) is still going, and two runs would land the same "
                "shards at once. Wait for it, or terminate it (UI, or `dagster run delete` once it is dead), then "
                "run again."
            ),
            allow_retries=False,
        )
