"""Run one Meltano command in the project, as a subprocess, the way an op needs it.

Output goes to this process's stdout (Dagster keeps it as the step's compute log); a failure carries the
last lines. A stop request (the run is terminated) reaches Meltano as SIGTERM, so that it records its run
as failed instead of leaving it "running" (which would refuse the next run of that state id for 5 minutes).
"""

from __future__ import annotations

import collections
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

# Meltano's words when it refuses a second run of a state id that is running (meltano 4.x).
ALREADY_RUNNING = "pipeline is already running"
TAIL_LINES = 40
STOP_GRACE_SECONDS = 20


@dataclasses.dataclass(frozen=True)
class Outcome:
    command: tuple[str, ...]
    returncode: int
    tail: str  # the last output lines

    @property
    def refused_as_running(self) -> bool:
        return self.returncode != 0 and ALREADY_RUNNING in self.tail


def executable() -> str:
    """``meltano`` beside this Python (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "meltano"
    return str(beside) if beside.exists() else (shutil.which("meltano") or "meltano")


def run(root: Path, *args: str, env: dict[str, str] | None = None,
        on_line: t.Callable[[str], None] | None = None) -> Outcome:
    """``meltano <args>`` in the project at ``root``; its output streamed to stdout (and to ``on_line``)."""
    command = (executable(), *args)
    environment = {**os.environ, "MELTANO_PROJECT_ROOT": str(root), **(env or {})}
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    process = subprocess.Popen(
        command, cwd=root, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace",
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            tail.append(line)
            if on_line:
                on_line(line)
        process.wait()
    except BaseException:
        _stop(process)
        raise
    sys.stdout.flush()
    return Outcome(command, process.returncode, "".join(tail))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
