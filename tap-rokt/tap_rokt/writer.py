"""Singer messages to stdout in large writes, flushed at every checkpoint.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import atexit
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage, StateMessage
from typing_extensions import override


class CheckpointFlushingWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing records in blocks instead of one write and flush each.

    One system call per record was a fifth of a large sync's time (more where PYTHONUNBUFFERED is set, as in
    many containers). Records are collected here, and every other message (SCHEMA, STATE, ACTIVATE_VERSION)
    writes them out before itself: a target has every record a STATE covers before that STATE, and a tap
    killed mid-run loses only records that no STATE covers yet. Whatever is left when the process ends, after
    a failure too, is written out then, as the SDK's own writer would have done record by record.

    The output always ends with a STATE: the SDK writes a STATE only when the state changed, so the records of
    full-table streams synced last would otherwise follow the last STATE, and a loader that forgets a state once
    a record follows it (target-jsonl) would hand Meltano no state for the run. The last STATE is repeated then.
    """

    BLOCK_BYTES = 64 * 1024

    def __init__(self) -> None:
        self._pending = bytearray()
        self._last_state = b""
        self._records_after_state = False
        atexit.register(self.close)

    @override
    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        self._pending += line  # a copy: the SDK reuses its line buffer
        if isinstance(message, RecordMessage):
            self._records_after_state = True
        elif isinstance(message, StateMessage):
            self._last_state, self._records_after_state = bytes(line), False
        if not isinstance(message, RecordMessage) or len(self._pending) >= self.BLOCK_BYTES:
            self.flush()

    def close(self) -> None:
        """The end of the output: the last STATE again if records followed it, then everything pending."""
        if self._records_after_state and self._last_state:
            self._pending += self._last_state
            self._records_after_state = False
        self.flush()

    def flush(self) -> None:
        """Write out the pending messages."""
        if not self._pending:
            return
        out, written = sys.stdout.buffer, 0
        while written < len(self._pending):  # an unbuffered stdout may take a block in parts
            written += out.write(self._pending[written:])
        self._pending.clear()
        sys.stdout.flush()
