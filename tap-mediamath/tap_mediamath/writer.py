"""Singer messages to stdout in large writes, flushed at every checkpoint.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import atexit
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage
from typing_extensions import override


class CheckpointFlushingWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing records in blocks instead of one write and flush each.

    One system call per record was a fifth of a large sync's time (more where PYTHONUNBUFFERED is set, as in
    many containers). Records are collected here, and every other message (SCHEMA, STATE, ACTIVATE_VERSION)
    writes them out before itself: a target has every record a STATE covers before that STATE, and a tap
    killed mid-run loses only records that no STATE covers yet. Whatever is left when the process ends, after
    a failure too, is written out then, as the SDK's own writer would have done record by record.
    """

    BLOCK_BYTES = 64 * 1024

    def __init__(self) -> None:
        self._pending = bytearray()
        atexit.register(self.flush)

    @override
    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)  # a copy: the SDK reuses its line buffer
        if not isinstance(message, RecordMessage) or len(self._pending) >= self.BLOCK_BYTES:
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
