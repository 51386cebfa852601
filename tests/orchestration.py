"""Harness of the sharded-job tests: a scratch copy of the Meltano project with its own shards, one embedded
PostgreSQL holding a database per role (Meltano's system database, Dagster's storage, the Celery broker and
results, the warehouse), Celery workers each with their own Meltano run directory, and the job launched as
`dagster job execute`, everything on 127.0.0.1."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path
from unittest import mock

import psycopg
import yaml

from emulators.testing import run_tap
from orchestrate import shards as shard_plans
from orchestrate.worker import link_plugins

if t.TYPE_CHECKING:
    from sources import Source

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEP_RETRIED = "STEP_UP_FOR_RETRY"


def wait_until(condition: t.Callable[[], t.Any], timeout: float, what: str, interval: float = 0.2) -> t.Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


class Gate:
    """Holds the emulator's answers to requests whose path matches ``pattern`` until :meth:`open`."""

    def __init__(self, emulator: t.Any, pattern: str) -> None:
        self.pattern = re.compile(pattern)
        self.reached = threading.Event()
        self._opened = threading.Event()
        dispatch = emulator.dispatch

        def held(request):
            if self.pattern.search(request.path) and not self._opened.is_set():
                self.reached.set()
                self._opened.wait(120)
            return dispatch(request)

        emulator.dispatch = held

    def open(self) -> None:
        self._opened.set()


@dataclasses.dataclass
class Process:
    """A background process of the test (a worker, a job launch), in its own process group."""

    popen: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = 600) -> int:
        return self.popen.wait(timeout)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(30)
        self.signal_group(signal.SIGKILL)  # whatever the group still holds (a step's meltano, tap, target)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)


class Stack:
    """One sharded deployment on loopback: project copy, databases, Dagster home, workers, launches."""

    def __init__(self, server: dict, scratch: Path, label: str, taps: dict[str, tuple[list, int]],
                 settings: dict[str, str], dbt: str = "", job: dict | None = None) -> None:
        self.server, self.scratch, self.label = server, scratch, label
        self.project = scratch / "project"
        self._write_project(taps, {"loader": "target-postgres", "dbt": dbt, **(job or {})})
        for role in ("meltano", "dagster", "broker", "warehouse"):
            self._admin(f'create database "{self.database(role)}"')
        home = scratch / "dagster-home"
        home.mkdir()
        shutil.copy(ROOT / "orchestrate" / "dagster.yaml", home / "dagster.yaml")
        local_run_dir = scratch / "run-local"
        link_plugins(local_run_dir, ROOT / ".meltano")
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "ORCHESTRATE_PROJECT_ROOT": str(self.project),
            "DAGSTER_HOME": str(home),
            "ORCHESTRATE_DAGSTER_PG_URL": self.url("dagster", "postgresql"),
            "ORCHESTRATE_CELERY_BROKER": self.url("broker", "sqla+postgresql+psycopg"),
            "ORCHESTRATE_CELERY_BACKEND": self.url("broker", "db+postgresql+psycopg"),
            "MELTANO_DATABASE_URI": self.url("meltano", "postgresql+psycopg"),
            "MELTANO_SYS_DIR_ROOT": str(local_run_dir),  # the launching machine's own run directory
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TARGET_POSTGRES_HOST": server["host"],
            "TARGET_POSTGRES_PORT": str(server["port"]),
            "TARGET_POSTGRES_USER": server["user"],
            "TARGET_POSTGRES_PASSWORD": server["password"],
            "TARGET_POSTGRES_DATABASE": self.database("warehouse"),
            **settings,
        }
        self.processes: list[Process] = []

    # ------------------------------------------------------------------ set-up

    def _write_project(self, taps: dict[str, tuple[list, int]], job: dict) -> None:
        (self.project / "orchestrate").mkdir(parents=True)
        shutil.copy(ROOT / "meltano.yml", self.project / "meltano.yml")
        if job["dbt"]:  # the models of transform/, built by that Meltano utility's dbt
            shutil.copytree(ROOT / "transform", self.project / "transform",
                            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
        declaration = {
            "taps": {tap: {"shards": count, "accounts": accounts} for tap, (accounts, count) in taps.items()},
            "job": job,
        }
        (self.project / "orchestrate" / "shards.yml").write_text(yaml.safe_dump(declaration), encoding="utf-8")
        self.shards = shard_plans.generate(self.project / "orchestrate" / "shards.yml",
                                           self.project / "orchestrate" / "shards.meltano.yml")

    def database(self, role: str) -> str:
        return f"{self.label}_{role}"

    def url(self, role: str, scheme: str) -> str:
        s = self.server
        return f"{scheme}://{s['user']}@{s['host']}:{s['port']}/{self.database(role)}"

    def _admin(self, sql: str) -> None:
        s = self.server
        with psycopg.connect(host=s["host"], port=s["port"], user=s["user"], dbname=s["database"], autocommit=True) as db:
            db.execute(sql)

    def query(self, role: str, sql: str, *params: t.Any) -> list[tuple]:
        s = self.server
        with psycopg.connect(host=s["host"], port=s["port"], user=s["user"], dbname=self.database(role)) as db:
            return db.execute(sql, params).fetchall()

    def execute(self, role: str, sql: str, *params: t.Any) -> int:
        """Run one statement that changes ``role``'s database; the rows it changed."""
        s = self.server
        with psycopg.connect(host=s["host"], port=s["port"], user=s["user"], dbname=self.database(role)) as db:
            return db.execute(sql, params).rowcount

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, command: list[str]) -> Process:
        log = self.scratch / f"{name}.log"
        with log.open("w") as out:
            popen = subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        process = Process(popen, log)
        self.processes.append(process)
        return process

    def worker(self, name: str, concurrency: int = 2) -> Process:
        """A Celery worker with its own Meltano run directory, once it is ready for tasks."""
        worker = self._spawn(f"worker-{name}", [
            str(BIN / "python"), "-m", "orchestrate.worker", "--run-dir", str(self.scratch / f"run-{name}"),
            "--name", name, "--concurrency", str(concurrency), "--link-plugins", str(ROOT / ".meltano"),
        ])
        wait_until(lambda: " ready." in worker.text() or worker.popen.poll() is not None, 120, f"worker {name}")
        assert worker.popen.poll() is None, worker.text()[-3000:]
        return worker

    def launch(self, job: str, *args: str, name: str | None = None) -> Process:
        return self._spawn(name or f"launch-{len(self.processes)}", [
            str(BIN / "dagster"), "job", "execute", "-m", "orchestrate.definitions", "-j", job, *args,
        ])

    def meltano(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "meltano"), *args], cwd=self.project, env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    # ------------------------------------------------------------------ Dagster's records

    def cancel_unfinished_runs(self) -> list[str]:
        """What an operator does for a run whose process is gone and that no daemon watches (the UI's forced
        Terminate): mark it canceled, so that the next run is not refused beside it. The ids of those runs."""
        import dagster as dg

        settings = {name: self.env[name] for name in ("DAGSTER_HOME", "ORCHESTRATE_DAGSTER_PG_URL")}
        with mock.patch.dict(os.environ, settings), dg.DagsterInstance.get() as instance:
            unfinished = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            for run in unfinished:
                instance.report_run_canceled(run, message="Its process is gone: marked canceled by the operator")
            return [run.run_id for run in unfinished]

    # ------------------------------------------------------------------ Meltano's records

    def running(self, state_id: str) -> bool:
        return bool(self.query("meltano", "select 1 from runs where job_name = %s and state = 'RUNNING'", state_id))

    def dead_runs(self, state_ids: t.Sequence[str], quiet_seconds: float = 5) -> list[str] | None:
        """None while one of ``state_ids`` runs and beats; then those still recorded as running (their
        process is gone: Meltano beats every second, in UTC without a time zone)."""
        rows = self.query("meltano", "select job_name, extract(epoch from (now() at time zone 'utc' - last_heartbeat_at)) "
                          "from runs where state = 'RUNNING' and job_name = any(%s)", list(state_ids))
        if any(age < quiet_seconds for _, age in rows):
            return None
        return sorted(name for name, _ in rows)

    def states(self) -> dict[str, dict]:
        """Every state id and its state, from the shared system database."""
        ids = [line.strip() for line in self.meltano("state", "list").splitlines() if line.strip()]
        return {state_id: json.loads(self.meltano("state", "get", state_id)) for state_id in ids}

    def age_dead_runs(self, state_id: str, minutes: int = 10) -> int:
        """Move the heartbeat of a killed run back ``minutes``, as if that much time had passed: Meltano
        takes a run whose heartbeat is 5 minutes old for dead (and fails it), so the test need not wait."""
        s = self.server
        with psycopg.connect(host=s["host"], port=s["port"], user=s["user"], dbname=self.database("meltano")) as db:
            cursor = db.execute(
                "update runs set last_heartbeat_at = last_heartbeat_at - make_interval(mins => %s) "
                "where job_name = %s and state = 'RUNNING'", (minutes, state_id))
            return cursor.rowcount


# ---------------------------------------------------------------------- ground truth and what landed


def serial_run(source: Source, config: dict) -> dict:
    """What one unsharded run of the tap emits: records per stream, spend per partition and day."""
    run = run_tap(source.tap, config)
    assert run.returncode == 0, run.stderr[-3000:]
    spend: dict[str, float] = collections.defaultdict(float)
    for row in run.records(source.spend_table):
        spend[f"{row[source.partition]} {row[source.day][:10]}"] += row[source.spend] or 0
    return {
        "counts": dict(collections.Counter(m["stream"] for m in run.messages if m["type"] == "RECORD")),
        "spend": {key: round(value, 2) for key, value in spend.items()},
    }


def landed(stack: Stack, source: Source) -> dict:
    """The same figures from the warehouse, and how many report rows share a key."""
    schema = source.schema

    def query(sql: str, *params: t.Any) -> list[tuple]:
        return stack.query("warehouse", sql, *params)

    tables = [name for (name,) in query("select table_name from information_schema.tables where table_schema = %s", schema)]
    keys = ", ".join(source.keys)
    return {
        "counts": {table: query(f'select count(*) from {schema}."{table}"')[0][0] for table in tables},
        "spend": {
            key: round(float(value), 2)
            for key, value in query(
                f"select {source.partition} || ' ' || substr(cast({source.day} as varchar), 1, 10), sum({source.spend}) "
                f"from {schema}.{source.spend_table} group by 1")
        },
        "duplicates": query(f"select count(*) - count(distinct ({keys})) from {schema}.{source.spend_table}")[0][0],
    }
