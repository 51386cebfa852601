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
    models: tuple[str, ...] = ()  # Meltano tasks run once every shard has landed: `meltano run <models...>`
    max_concurrent: int = 0  # shards at once under the multiprocess executor; 0: all of them
    schedule: str = "0 6 * * *"  # the daily run, cron, UTC


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
        if "models" in job:
            job["models"] = tuple(job["models"] or ())
        return JobSettings(**job)


def current() -> Project:
    return Project(project_root())
