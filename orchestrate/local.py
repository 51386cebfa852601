"""The sharded job on one machine, with nothing installed by hand: an embedded PostgreSQL, then the UI or a run.

    python -m orchestrate.local ui  [--port 3000] [--home .orchestrate]   # the UI, the daemon and the code server
    python -m orchestrate.local job [-- dagster job execute options]      # one run of ads_shards, then exit

The PostgreSQL server (local_postgres.py, data in ``<home>/postgres``, kept between starts) holds Meltano's system
database (runs, every shard's state), Dagster's storage (runs, event logs, schedules) and the warehouse; the
settings that point everything at it (MELTANO_DATABASE_URI, TARGET_POSTGRES_*, DAGSTER_HOME with a copy of
orchestrate/dagster.yaml, ORCHESTRATE_DAGSTER_PG_URL) are set here for the process it starts. ``ui`` runs
``dagster dev`` from .venv-ui (requirements-ui.txt) on orchestrate/workspace.yaml; ``job`` runs ``dagster job
execute`` from this virtualenv. SIGTERM or Ctrl-C stops the process group it started, then the server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

from orchestrate import local_postgres

ROOT = Path(__file__).resolve().parent.parent
UI_VENV = ROOT / ".venv-ui"
DATABASES = {"meltano": "meltano", "dagster": "dagster", "warehouse": "warehouse"}
STOP_GRACE_SECONDS = 30


def environment(server: t.Mapping[str, t.Any], home: Path) -> dict[str, str]:
    """The settings of every process of the job on this machine, pointed at ``server``."""
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "orchestrate" / "dagster.yaml", dagster_home / "dagster.yaml")
    address = f"{server['user']}@{server['host']}:{server['port']}"
    return {
        "DAGSTER_HOME": str(dagster_home),
        "ORCHESTRATE_DAGSTER_PG_URL": f"postgresql://{address}/{DATABASES['dagster']}",
        "MELTANO_DATABASE_URI": f"postgresql+psycopg://{address}/{DATABASES['meltano']}",
        "TARGET_POSTGRES_HOST": server["host"],
        "TARGET_POSTGRES_PORT": str(server["port"]),
        "TARGET_POSTGRES_USER": server["user"],
        "TARGET_POSTGRES_PASSWORD": server["password"],
        "TARGET_POSTGRES_DATABASE": DATABASES["warehouse"],
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def ui_command(port: int) -> list[str]:
    dagster = UI_VENV / "bin" / "dagster"
    if not dagster.exists():
        raise SystemExit(f"{dagster} is missing: `make orchestrate` creates .venv-ui from requirements-ui.txt")
    return [str(dagster), "dev", "-w", str(ROOT / "orchestrate" / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)]


def job_command(extra: list[str]) -> list[str]:
    dagster = Path(sys.executable).parent / "dagster"
    return [str(dagster), "job", "execute", "-m", "orchestrate.definitions", "-j", "ads_shards", *extra]


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` in its own process group until it ends. SIGTERM/SIGINT here reach the command alone as SIGINT
    (Ctrl-C, on which ``dagster dev`` stops its own children); whatever its group still holds STOP_GRACE_SECONDS
    later is killed."""
    started: list[subprocess.Popen] = []
    deadline = threading.Timer(STOP_GRACE_SECONDS, lambda: _kill_group(started[0].pid))
    deadline.daemon = True

    def stop(*_: object) -> None:
        if started:
            with contextlib.suppress(ProcessLookupError):
                started[0].send_signal(signal.SIGINT)
        if not deadline.is_alive():
            deadline.start()

    # Handlers first: a process started in the background of a shell has SIGINT ignored, and would pass that on to
    # the command, whose Python would then ignore SIGINT and SIGTERM alike (dagster dev maps one to the other).
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        started.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))
        returncode = started[0].wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        deadline.cancel()
        if started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(started[0].pid, signal.SIGTERM)  # whatever the group still holds
                time.sleep(2)
                _kill_group(started[0].pid)
    return returncode


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrate.local", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ui", "job"])
    parser.add_argument("--home", type=Path, default=ROOT / ".orchestrate", help="where the server's data and DAGSTER_HOME live")
    parser.add_argument("--port", type=int, default=3000, help="the UI's port, on 127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=0, help="the PostgreSQL server's port (default: a free one)")
    parser.add_argument("extra", nargs="*", help="after --: options of `dagster job execute` (job)")
    args = parser.parse_args(argv)
    # A stop before the child runs still stops the server (the with-block's exit).
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    command = ui_command(args.port) if args.what == "ui" else job_command(args.extra)
    home = args.home.resolve()
    with local_postgres.running(home / "postgres", args.pg_port, list(DATABASES.values())) as server:
        env = {**os.environ, **environment(server, home)}
        print(f"orchestrate.local: PostgreSQL on 127.0.0.1:{server['port']}, DAGSTER_HOME={env['DAGSTER_HOME']}",
              file=sys.stderr, flush=True)
        return supervise(command, env)


if __name__ == "__main__":
    sys.exit(main())
