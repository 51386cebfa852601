"""The dbt models of transform/ as Dagster assets (dagster-dbt), their tests as asset checks.

dbt itself is the one Meltano installs for the utility named by ``job.dbt`` (``dbt-postgres``: dbt-core 1.11 in
that plugin's virtualenv, ``<system dir>/utilities/dbt-postgres/venv/bin/dbt``), with its profiles
(``transform/profiles/postgres``: target-postgres's own connection settings): the orchestration virtualenv holds
dagster-dbt, which reads dbt's manifest and runs that dbt, and not dbt-core (whose pins would downgrade the
development tools). The manifest is written by ``dbt parse`` when it is missing or older than a file of
transform/, so the asset graph follows the project as it is: every source the models read is an upstream asset
``<source>/<table>``, every model an asset, every test an asset check on the model (or source) it tests.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.

import fcntl
import json
import os
import subprocess
import typing as t
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestrate.project import Project, sys_dir

ASSET_NAME = "warehouse_models"
# dbt parse reads the profile, not the warehouse: connection settings it needs but the environment may lack
# (a machine that only loads the definitions) get placeholders for that command alone.
PARSE_PLACEHOLDERS = {"TARGET_POSTGRES_HOST": "127.0.0.1", "TARGET_POSTGRES_USER": "parse", "TARGET_POSTGRES_DATABASE": "parse"}
SKIPPED_FOLDERS = {"target", "logs", "dbt_packages"}


def project_dir(project: Project) -> Path:
    return Path(project.root) / "transform"


def profiles_dir(project: Project, utility: str) -> Path:
    """``transform/profiles/<adapter>`` of the utility (dbt-postgres -> postgres), as meltano.yml sets it."""
    return project_dir(project) / "profiles" / utility.removeprefix("dbt-")


def dbt_executable(project: Project, utility: str) -> Path:
    return sys_dir(project) / "utilities" / utility / "venv" / "bin" / "dbt"


def target_dir(project: Project, utility: str) -> Path:
    return sys_dir(project) / "orchestrate" / utility / "target"


def _newest_source(folder: Path) -> float:
    newest = 0.0
    for path in folder.rglob("*"):
        if path.is_file() and not SKIPPED_FOLDERS.intersection(path.relative_to(folder).parts):
            newest = max(newest, path.stat().st_mtime)
    return newest


def manifest(project: Project, utility: str) -> Path:
    """transform/'s manifest.json, parsed again when a file of transform/ is newer (one parse at a time)."""
    executable = dbt_executable(project, utility)
    if not executable.exists():
        raise FileNotFoundError(f"{executable}: install the Meltano plugins first (`meltano install`), job.dbt is {utility}")
    target = target_dir(project, utility)
    target.mkdir(parents=True, exist_ok=True)
    path = target / "manifest.json"
    with (target.parent / "parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and path.stat().st_mtime >= _newest_source(project_dir(project)):
            return path
        env = {**PARSE_PLACEHOLDERS, **os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        done = subprocess.run(
            [str(executable), "parse", "--project-dir", str(project_dir(project)),
             "--profiles-dir", str(profiles_dir(project, utility)), "--target-path", str(target)],
            env=env, capture_output=True, text=True, check=False, timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"dbt parse of {project_dir(project)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return path


def read_manifest(path: Path | None) -> dict[str, t.Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path else None


def resource(project: Project, utility: str) -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(project_dir(project)),
        profiles_dir=str(profiles_dir(project, utility)),
        dbt_executable=str(dbt_executable(project, utility)),
    )


def models_asset(manifest_path: Path) -> dg.AssetsDefinition:
    translator = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(manifest=manifest_path, dagster_dbt_translator=translator, name=ASSET_NAME)
    def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> t.Iterator[t.Any]:
        """``dbt build`` of the selected models and tests: each model a materialization, each test a check."""
        yield from dbt.cli(["build"], context=context).stream()

    return warehouse_models
