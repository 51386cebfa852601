"""Test support shared by the three taps' tests: run a tap as a process, read its Singer output, and check every
RECORD against the SCHEMA the tap emitted for its stream (a record that breaks its own schema fails the test)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from jsonschema import Draft202012Validator, validators

if t.TYPE_CHECKING:
    from jsonschema.protocols import Validator

# jsonschema checks the date-time format only when rfc3339-validator is installed, and skips it silently
# otherwise: without it, "2025-02-30T00:00:00Z" would pass. Refuse to run with a check that does not run.
if "date-time" not in Draft202012Validator.FORMAT_CHECKER.checkers:
    raise ImportError("emulators.testing checks date-time formats: install rfc3339-validator (requirements-dev.txt)")

#: How many violations a failure lists (the count of all of them is given too).
SHOWN_VIOLATIONS = 5


class SchemaViolationError(AssertionError):
    """A tap emitted RECORD messages that break the SCHEMA it emitted for their stream."""


def record_validator(schema: dict) -> Validator:
    """A strict validator of one stream's records: the draft the schema declares (``$schema``), else 2020-12 (the
    Singer SDK's own default), with a format checker (date-time, date, ...). Built once per distinct schema: a
    test session runs the same taps many times, and checking a schema against its metaschema takes milliseconds."""
    return _validator(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Validator:
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)  # a schema that is not valid JSON Schema is a failure of its own
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class RecordChecker:
    """Checks a tap's messages as they come: each RECORD against the last SCHEMA of its stream."""

    def __init__(self, tap: str) -> None:
        self.tap = tap
        self.records = 0
        self.violations: list[str] = []
        self.violation_count = 0
        self._validators: dict[str, Validator] = {}
        self._keys: dict[str, list[str]] = {}

    def message(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "SCHEMA":
            self._validators[message["stream"]] = record_validator(message["schema"])
            self._keys[message["stream"]] = list(message.get("key_properties") or [])
        elif kind == "RECORD":
            self.records += 1
            self.record(message["stream"], message["record"])

    def record(self, stream: str, record: t.Any) -> None:
        validator = self._validators.get(stream)
        if validator is None:
            self._violation(f"RECORD #{self.records} of stream {stream!r} comes before any SCHEMA of the stream")
            return
        for error in validator.iter_errors(record):
            key = ", ".join(f"{name}={record.get(name)!r}" for name in self._keys[stream] if isinstance(record, dict))
            where = "/".join(str(part) for part in error.absolute_path) or "(the record)"
            rule = "/".join(str(part) for part in error.absolute_schema_path)
            self._violation(
                f"RECORD #{self.records} of stream {stream!r} ({key or 'no key'}), at {where}: {error.message} (schema: {rule})"
            )

    def _violation(self, text: str) -> None:
        self.violation_count += 1
        if len(self.violations) < SHOWN_VIOLATIONS:
            self.violations.append(text)

    def failure(self) -> str | None:
        """What :meth:`check` raises, or None."""
        if not self.violation_count:
            return None
        lines = "\n  ".join(self.violations)
        return (
            f"{self.tap}: {self.violation_count} schema violation(s) in {self.records} RECORD message(s), "
            f"first {len(self.violations)}:\n  {lines}"
        )

    def check(self) -> None:
        """Raise :class:`SchemaViolationError` naming the first violations, if there were any."""
        failure = self.failure()
        if failure:
            raise SchemaViolationError(failure)


class RecordCheckProcess:
    """A :class:`RecordChecker` in a process of its own, fed a tap's output lines as the tap writes them: for streams
    of very many records, whose check (tens of microseconds a record) would otherwise hold the reading process's
    interpreter, and with it an emulator serving the tap from that process. Every record is still checked."""

    def __init__(self, tap: str) -> None:
        code = "import sys; from emulators.testing import check_lines; check_lines(sys.argv[1])"
        self._process = subprocess.Popen([sys.executable, "-c", code, tap], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._process.stdin is not None
        self._input = self._process.stdin
        #: Filled by :meth:`finish`: records checked, and the CPU seconds the checking process spent.
        self.records = 0
        self.seconds = 0.0

    def line(self, line: bytes) -> None:
        """One line of the tap's output, as written (SCHEMA and RECORD messages are checked, others ignored)."""
        self._input.write(line)

    def finish(self) -> None:
        """Wait for the check of every line; raise :class:`SchemaViolationError` if a record broke its schema."""
        out, _ = self._process.communicate()
        if self._process.returncode != 0:
            raise RuntimeError(f"the record check process failed (exit {self._process.returncode})")
        summary = json.loads(out)
        self.records, self.seconds = summary["records"], summary["seconds"]
        if summary["failure"]:
            raise SchemaViolationError(summary["failure"])


def check_lines(tap: str) -> None:
    """The checking process of :class:`RecordCheckProcess`: a tap's output lines on stdin, a summary on stdout."""
    checker = RecordChecker(tap)
    for line in sys.stdin.buffer:
        if line.startswith((b'{"type":"RECORD"', b'{"type":"SCHEMA"')):
            checker.message(json.loads(line))
    summary = {"records": checker.records, "seconds": time.process_time(), "failure": checker.failure()}
    sys.stdout.write(json.dumps(summary))


def check_records(tap: str, messages: t.Iterable[dict]) -> int:
    """Check every RECORD of ``messages`` against its stream's SCHEMA; the number of records checked."""
    checker = RecordChecker(tap)
    for message in messages:
        checker.message(message)
    checker.check()
    return checker.records


def singer_messages(stdout: str) -> list[dict]:
    """The Singer messages of a tap's standard output."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"type"')]


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
    check_schemas: bool = True,
) -> TapRun:
    """Run ``name --config ...`` (plus ``--state``/``--catalog`` when given) and parse what it wrote.

    Every RECORD is checked against the SCHEMA the tap emitted for its stream (:class:`SchemaViolationError`
    when one breaks it, whatever the exit code); ``check_schemas=False`` only for a test of the check itself."""
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
    messages = singer_messages(done.stdout)
    if check_schemas:
        check_records(name, messages)
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
