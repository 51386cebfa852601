"""Report windows done: the bookmark, the STATE message and the progress line, the same in the three taps.

Rule: every report window (one request's worth of days, or all pages of it) ends in a checkpoint. The SDK
has moved the partition's bookmark with each row; a window that came back complete and empty moves it too,
to the window's last period, so a partition without data is not asked again for its whole history on every
run (the lookback still re-reads recent days). Partitions a window's request covered but the SDK does not sync
as contexts of their own (AdRoll's advertisables, all asked for in one request a day) move to the window's
last period too, never back. Then a STATE message is written: a run killed after it
resumes at that window, and the writer has sent every row the STATE covers before it. A progress line says
where the partition stands; at the end of a run one line per report stream sums it up.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import copy
import dataclasses
import time
import typing as t

if t.TYPE_CHECKING:
    from singer_sdk import Stream, Tap
    from singer_sdk.helpers.types import Context, TapState


#: Keys the SDK keeps in a partition's state only while a run is under way; a STATE written mid-run without
#: them is the state a finished run would leave, and the one the next run should start from.
RUN_ONLY_KEYS = ("starting_replication_value", "replication_key_signpost", "progress_markers")


def resumable_state(tap_state: t.Mapping[str, t.Any]) -> dict:
    """A copy of the tap's state without the run-only keys of its partitions."""
    state = copy.deepcopy(dict(tap_state))
    for stream_state in state.get("bookmarks", {}).values():
        for partition in [stream_state, *stream_state.get("partitions", [])]:
            for key in RUN_ONLY_KEYS:
                partition.pop(key, None)
    return state


@dataclasses.dataclass
class PartitionProgress:
    """How far one partition's windows are: counts and times for the progress line."""

    label: str  # "account 3286272607917027328"
    windows: int
    done: int = 0
    rows: int = 0
    started: float = dataclasses.field(default_factory=time.monotonic)

    def line(self, window: str, rows: int) -> str:
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.windows - self.done) if self.done else 0.0
        return (
            f"{self.label}: window {self.done} of {self.windows} ({window}) done, {rows:,} rows; "
            f"{self.rows:,} rows in {elapsed:.1f} s, about {left:.0f} s left"
        )


@dataclasses.dataclass
class StreamTotals:
    """A report stream's run, summed up at the end."""

    rows: int = 0
    windows: int = 0
    started: float | None = None
    ended: float | None = None


class Checkpoints:
    """A report stream's checkpoints: one per window, and the stream's totals."""

    def __init__(self, stream: Stream, tap: Tap) -> None:
        self.stream = stream
        self.tap = tap
        self.totals = StreamTotals()
        self.partition: PartitionProgress | None = None

    def start_partition(self, label: str, windows: int) -> None:
        """A partition's windows are planned: its progress starts."""
        self.partition = PartitionProgress(label, windows)
        if self.totals.started is None:
            self.totals.started = time.monotonic()

    def window_done(
        self, context: Context | None, window: str, rows: int, last_period_value: str, covered: t.Sequence[Context] = ()
    ) -> None:
        """A window's rows are all emitted: move an unmoved bookmark over it, write STATE, log progress.

        ``last_period_value`` is the replication key value a row of the window's last period would carry;
        ``covered`` are the partitions the window's request was for, when they are not ``context`` itself.
        """
        if rows == 0:
            self.advance(context, last_period_value)
        for partition in covered:
            self.advance(partition, last_period_value)
        self.tap.state_writer.write_state(t.cast("TapState", resumable_state(self.stream.tap_state)))
        self.totals.rows += rows
        self.totals.windows += 1
        self.totals.ended = time.monotonic()
        if self.partition is not None:
            self.partition.done += 1
            self.partition.rows += rows
            self.stream.logger.info("%s: %s", self.stream.name, self.partition.line(window, rows))

    def advance(self, context: Context | None, last_period_value: str) -> None:
        """Move a partition's bookmark to ``last_period_value`` unless it already stands there or later."""
        if not self.stream.replication_key:
            return
        state = self.stream.get_context_state(context)  # the SDK's writable partition state
        current = state.get("replication_key_value")
        if not current or str(current)[:10] < last_period_value[:10]:
            state["replication_key"] = self.stream.replication_key
            state["replication_key_value"] = last_period_value

    def summary(self, requests_sent: int, retries: int) -> str:
        seconds = (self.totals.ended or 0.0) - (self.totals.started or 0.0)
        return (
            f"{self.stream.name}: {self.totals.rows:,} rows in {self.totals.windows} window(s), "
            f"{requests_sent} request(s), {retries} retr{'y' if retries == 1 else 'ies'}, {seconds:.1f} s"
        )
