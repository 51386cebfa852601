"""Measuring one extraction: a child process whose RECORD lines are counted from its pipe, its CPU (rusage),
its peak resident memory, and the API requests the emulator logged while it ran."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import threading
import time
import typing as t
from pathlib import Path


@dataclasses.dataclass
class Measure:
    records: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    requests: int
    report_requests: int = 0  # requests whose path matches the run's report path
    startup_seconds: float = 0.0  # from the process's start to its first API request (imports, settings)

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def per_second_after_startup(self) -> float:
        return self.records / self.after_startup_seconds if self.after_startup_seconds > 0 else 0.0

    @property
    def cpu_per_100k(self) -> float:
        return self.cpu_seconds / self.records * 100_000 if self.records else 0.0

    @property
    def after_startup_seconds(self) -> float:
        """Wall time from the first API request to the process's exit: what latency can lengthen."""
        return self.seconds - self.startup_seconds


def run_child(
    command: list[str],
    emulator,
    count_stream: str,
    *,
    report_path: str | None = None,
    env: dict[str, str] | None = None,
    inspect: t.Callable[[bytes], None] | None = None,
) -> Measure:
    """Run a command, count its RECORD lines of ``count_stream`` from the pipe (handing each to ``inspect``),
    and read its rusage and the emulator's request log."""
    before = len(emulator.calls())
    marker = f'"stream":"{count_stream}"'.encode()
    spaced_marker = f'"stream": "{count_stream}"'.encode()  # singer-python writes json.dumps' default spacing
    started_epoch = time.time()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})})
    assert process.stdout is not None
    peaks = [0]
    done = threading.Event()

    def sample() -> None:  # VmHWM is a high-water mark: the last reading before exit is the peak
        while not done.wait(0.02):
            peaks.append(_peak_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    records = 0
    for line in process.stdout:
        if (line.startswith(b'{"type":"RECORD"') and marker in line) or (
                line.startswith(b'{"type": "RECORD"') and spaced_marker in line):
            records += 1
            if inspect is not None:
                inspect(line)
    peaks.append(_peak_rss_kb(process.pid))
    done.set()
    sampler.join()
    peak_kb = max(peaks)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    calls = emulator.calls()[before:]
    report_requests = sum(1 for c in calls if report_path and re.search(report_path, c.path))
    startup = min((c.received for c in calls), default=started_epoch) - started_epoch
    return Measure(records, seconds, usage.ru_utime + usage.ru_stime, peak_kb / 1024, len(calls), report_requests,
                   max(0.0, startup))


def _peak_rss_kb(pid: int) -> int:
    """The child's peak resident set (VmHWM) so far. Not ru_maxrss: that counts the pages the child
    shared with this large parent between fork and exec."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def best(measures: list[Measure]) -> Measure:
    return min(measures, key=lambda m: m.seconds)
