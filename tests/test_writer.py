"""The message writer shared by the three taps: records reach stdout in blocks, and every other message first
writes out what precedes it. The writer module is the same file in every tap (test_shared_modules.py), so it is
tested once, here."""

from __future__ import annotations

import io
import json
import sys
import typing as t

import pytest
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage
from tap_rokt.writer import CheckpointFlushingWriter  # the same class in every tap


class _TrickleStdout(io.RawIOBase):
    """A raw, unbuffered stdout (as with PYTHONUNBUFFERED) that takes at most 1000 bytes per write."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        taken = bytes(chunk[:1000])
        self.data += taken
        self.writes += 1
        return len(taken)


@pytest.fixture
def stdout(monkeypatch: pytest.MonkeyPatch) -> t.Callable[[], _TrickleStdout]:
    """Call it inside the test: pytest puts its own capture back on sys.stdout after fixtures are set up."""

    def install() -> _TrickleStdout:
        raw = _TrickleStdout()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, write_through=True))  # type: ignore[arg-type]  # .buffer is raw
        return raw

    return install


def _lines(raw: _TrickleStdout) -> list[dict]:
    return [json.loads(line) for line in raw.data.decode().splitlines()]


def _record(n: int) -> RecordMessage:
    return RecordMessage(stream="report", record={"id": n, "spend": 1.5 * n})


def test_records_wait_for_the_state_that_covers_them(stdout: t.Callable[[], _TrickleStdout]) -> None:
    out = stdout()
    writer = CheckpointFlushingWriter()
    writer.write_message(SchemaMessage(stream="report", schema={"type": "object"}, key_properties=["id"]))
    assert [m["type"] for m in _lines(out)] == ["SCHEMA"]
    for n in range(3):
        writer.write_message(_record(n))
    assert [m["type"] for m in _lines(out)] == ["SCHEMA"]  # nothing written per record
    writer.write_message(StateMessage(value={"bookmarks": {"report": {"replication_key_value": 2}}}))
    messages = _lines(out)
    assert [m["type"] for m in messages] == ["SCHEMA", "RECORD", "RECORD", "RECORD", "STATE"]
    assert [m["record"]["id"] for m in messages if m["type"] == "RECORD"] == [0, 1, 2]


def test_a_long_run_of_records_is_written_in_blocks(stdout: t.Callable[[], _TrickleStdout]) -> None:
    out = stdout()
    writer = CheckpointFlushingWriter()
    for n in range(5000):
        writer.write_message(_record(n))
    written = _lines(out)
    # Blocks of BLOCK_BYTES go out without waiting for a STATE, whole lines only; the rest waits.
    assert 0 < len(written) < 5000
    assert len(out.data) >= CheckpointFlushingWriter.BLOCK_BYTES
    writer.flush()
    assert [m["record"]["id"] for m in _lines(out)] == list(range(5000))


def test_a_stdout_taking_part_of_a_block_gets_all_of_it_in_order(stdout: t.Callable[[], _TrickleStdout]) -> None:
    out = stdout()
    writer = CheckpointFlushingWriter()
    for n in range(100):
        writer.write_message(_record(n))
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert [m.get("record", {}).get("id") for m in _lines(out)] == [*range(100), None]
    assert out.writes > 3  # the block went out in several partial writes


def test_the_output_ends_with_a_state_when_records_followed_the_last_one(stdout: t.Callable[[], _TrickleStdout]) -> None:
    out = stdout()
    writer = CheckpointFlushingWriter()
    state = {"bookmarks": {"report": {"replication_key_value": 2}}}
    writer.write_message(_record(0))
    writer.write_message(StateMessage(value=state))
    writer.write_message(_record(1))  # a full-table stream synced last: the SDK writes no STATE it has written
    writer.close()
    assert [m["type"] for m in _lines(out)] == ["RECORD", "STATE", "RECORD", "STATE"]
    assert _lines(out)[-1]["value"] == state
    writer.close()  # nothing more at a second close
    assert len(_lines(out)) == 4
