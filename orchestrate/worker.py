"""Start one Celery worker of the sharded job, with its own Meltano run directory.

    python -m orchestrate.worker --run-dir /var/lib/ads-worker [--name w1] [--concurrency 4]
                                 [--link-plugins /path/to/project/.meltano]

Each worker keeps Meltano's system directory (plugin installs, each run's config and catalog files) apart
from every other worker's, through MELTANO_SYS_DIR_ROOT: two runs on one machine never share a run file.
On a new machine the run directory is filled with ``meltano install``; ``--link-plugins`` instead links the
plugin installs of a directory that already has them (workers on the machine that holds the project).
The worker then runs ``dagster-celery worker start`` with orchestrate/celery.yaml (broker and result
backend from ORCHESTRATE_CELERY_BROKER and ORCHESTRATE_CELERY_BACKEND) and serves the ``ads_shards_celery``
steps; state, the system database and the warehouse are the shared PostgreSQL ones of its environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestrate import meltano_command
from orchestrate.project import current

CELERY_CONFIG = Path(__file__).resolve().parent / "celery.yaml"
PLUGIN_TYPES = ("extractors", "loaders", "utilities", "transformers", "mappers", "orchestrators", "files")


def link_plugins(run_dir: Path, source: Path) -> None:
    """Link every plugin install of ``source`` (a ``.meltano`` directory) into ``run_dir``."""
    for plugin_type in PLUGIN_TYPES:
        for installed in sorted((source / plugin_type).glob("*")):
            link = run_dir / plugin_type / installed.name
            if link.is_symlink() or link.exists():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(installed.resolve(), target_is_directory=True)


def prepare(run_dir: Path, link_from: Path | None) -> dict[str, str]:
    """Make ``run_dir`` a Meltano system directory with the project's plugins; the environment using it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {"MELTANO_SYS_DIR_ROOT": str(run_dir)}
    if link_from:
        link_plugins(run_dir, link_from)
    else:
        outcome = meltano_command.run(current().root, "install", env=env)
        if outcome.returncode:
            raise SystemExit(f"meltano install into {run_dir} failed:\n{outcome.tail}")
    return env


def celery_command(name: str, concurrency: int) -> list[str]:
    dagster_celery = Path(sys.executable).parent / "dagster-celery"
    return [
        str(dagster_celery), "worker", "start", "-A", "dagster_celery.app", "-y", str(CELERY_CONFIG), "-n", name,
        "--", "--concurrency", str(concurrency),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orchestrate.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="this worker's Meltano system directory")
    parser.add_argument("--name", default=os.uname().nodename)
    parser.add_argument("--concurrency", type=int, default=4, help="shards this worker runs at once")
    parser.add_argument("--link-plugins", type=Path, help="a .meltano directory whose plugin installs to link")
    args = parser.parse_args(argv)
    env = {**os.environ, **prepare(args.run_dir.resolve(), args.link_plugins)}
    # Steps import orchestrate.definitions: the worker needs this repository on its import path.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")]))
    command = celery_command(args.name, args.concurrency)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
