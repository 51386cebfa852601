"""Where the Meltano project is, and the job settings it declares (orchestrate/shards.yml, ``job:``)."""

from __future__ import annotations

import dataclasses
import os
import typing as t
from pathlib import Path

import yaml

from orchestrate import shards

# The project the ops run Meltano in: this repository, unless ORCHESTRATE_PROJECT_ROOT names another copy.
PROJECT_ROOT_VARIABLE = "ORCHESTRATE_PROJECT_ROOT"


def project_root() -> Path:
    return Path(os.environ.get(PROJECT_ROOT_VARIABLE) or shards.HERE.parent).resolve()


@dataclasses.dataclass(frozen=True)
class JobSettings:
    loader: str = "target-postgres"
    # The Meltano utility whose dbt (its plugin virtualenv) and profiles (its profiles_dir under transform/profiles/)
    # build transform/ in the warehouse once the tables have landed; "": no models.
    dbt: str = ""
    max_concurrent: int = 0  # shards at once under the multiprocess executor; 0: all of them
    schedule: str = "0 6 * * *"  # the daily run, cron, UTC
    # tap -> Celery queue: its shards run only on workers serving that queue (`orchestrate.worker --queues`),
    # e.g. every AdRoll OAuth shard on the one machine that holds the shared token file. Others: "dagster".
    queues: dict[str, str] = dataclasses.field(default_factory=dict)
    # tap -> Dagster concurrency pool: its shards take a slot of that pool (dagster.yaml gives every pool one slot,
    # `dagster instance concurrency set <pool> <n>` changes it), e.g. AdRoll's shards one at a time for its quota.
    pools: dict[str, str] = dataclasses.field(default_factory=dict)
    # A run still going after this long is failed by the daemon's run monitoring (a dead Celery worker's step
    # would otherwise be waited for without end).
    max_runtime_minutes: int = 240


@dataclasses.dataclass(frozen=True)
class Project:
    root: Path

    @property
    def declaration(self) -> Path:
        return self.root / "orchestrate" / "shards.yml"

    @property
    def generated(self) -> Path:
        return self.root / "orchestrate" / "shards.meltano.yml"

    def shards(self) -> list[shards.Shard]:
        return shards.read_shards(self.generated)

    def job(self) -> JobSettings:
        content = yaml.safe_load(self.declaration.read_text(encoding="utf-8")) if self.declaration.exists() else None
        job: dict[str, t.Any] = (content or {}).get("job") or {}
        unknown = set(job) - {field.name for field in dataclasses.fields(JobSettings)}
        if unknown:
            raise ValueError(f"{self.declaration}: unknown job settings {', '.join(sorted(unknown))}")
        return JobSettings(**job)


def current() -> Project:
    return Project(project_root())


def sys_dir(project: Project) -> Path:
    """This machine's Meltano system directory (plugin installs): a worker's own, or the project's ``.meltano``."""
    return Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or project.root / ".meltano").resolve()
