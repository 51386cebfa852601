"""Test support shared by the three taps' tests: run a tap as a process and read its Singer output."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path


@dataclasses.dataclass
class TapRun:
    """What one tap process did: exit code, raw output, and the parsed Singer messages."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[dict]

    def records(self, stream: str | None = None) -> list[dict]:
        """The RECORD payloads, of one stream or of all."""
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    def schemas(self) -> dict[str, dict]:
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}

    @property
    def state(self) -> dict | None:
        """The last STATE message's value, as a loader would keep it."""
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    @property
    def streams(self) -> set[str]:
        return {m["stream"] for m in self.messages if m["type"] == "RECORD"}


def tap_executable(name: str) -> str:
    """The path of a tap's console script: beside this Python first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed in this environment")
    return found


def run_tap(
    name: str,
    config: dict,
    *,
    state: dict | None = None,
    catalog: dict | None = None,
    args: t.Sequence[str] = (),
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> TapRun:
    """Run ``name --config ...`` (plus ``--state``/``--catalog`` when given) and parse what it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [tap_executable(name)]
        for flag, content in (("--config", config), ("--state", state), ("--catalog", catalog)):
            if content is not None:
                path = Path(tmp) / f"{flag.strip('-')}.json"
                path.write_text(json.dumps(content))
                command += [flag, str(path)]
        command += list(args)
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"type"')]
    return TapRun(done.returncode, done.stdout, done.stderr, messages)


def discover(name: str, config: dict) -> dict:
    """The tap's catalog, from ``--discover``."""
    run = run_tap(name, config, args=["--discover"])
    if run.returncode != 0:
        raise RuntimeError(f"{name} --discover failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout)


def select(catalog: dict, streams: t.Collection[str]) -> dict:
    """A copy of ``catalog`` with exactly ``streams`` selected (every property of each)."""
    catalog = json.loads(json.dumps(catalog))
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = chosen
    return catalog
