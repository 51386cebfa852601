"""What a shard's run says about each stream, read from the lines Meltano prints for its tap.

Meltano prints every line a plugin writes to stderr as ``<time> [<level>] <plugin> <message>``. Read from
the tap's lines (never the loader's), per stream:

- ``METRIC: {"metric": "record_count", ...}`` (the SDK's counters, each an increment): rows;
- ``<stream>: N rows in W window(s), R request(s), ...`` (the taps' summary of a report stream): requests
  and windows;
- ``<stream>: <partition>, report days 2025-03-01..2025-03-05 (...)`` (a report stream's plan per partition):
  the first and last report day asked for;
- ``METRIC: {"metric": "http_request_count", ...}``: requests, for streams without a summary line.

Lines of any other shape are skipped; a run that prints none of these has figures of zero.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing as t

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# 2026-12-06T02:37:22.184244Z [info     ] tap-rokt--shard-1     campaign_report: 21 rows in ...
CONSOLE_LINE = re.compile(r"^\S+\s+\[\s*\w+\s*\]\s+(?P<plugin>\S+)\s+(?P<message>.*)$")
METRIC = re.compile(r"\bMETRIC: (?P<body>\{.*\})\s*$")
SUMMARY = re.compile(
    r"^(?P<stream>[A-Za-z_][\w-]*): (?P<rows>[\d,]+) rows in (?P<windows>\d+) window\(s\), (?P<requests>\d+) request\(s\)"
)
REPORT_DAYS = re.compile(
    r"^(?P<stream>[A-Za-z_][\w-]*): [^:]*?, report days (?P<first>\d{4}-\d\d-\d\d)\.\.(?P<last>\d{4}-\d\d-\d\d)\b"
)


@dataclasses.dataclass
class StreamFigures:
    rows: int = 0
    requests: int = 0
    windows: int | None = None  # report streams only
    first_day: str | None = None  # report streams only: the report days asked for
    last_day: str | None = None
    summarized: bool = False  # the tap printed its summary line: requests come from there

    def add(self, other: StreamFigures) -> None:
        """Add another shard's figures for the same stream."""
        self.rows += other.rows
        self.requests += other.requests
        if other.windows is not None:
            self.windows = (self.windows or 0) + other.windows
        self.first_day = min(filter(None, [self.first_day, other.first_day]), default=None)
        self.last_day = max(filter(None, [self.last_day, other.last_day]), default=None)

    def metadata(self) -> dict[str, t.Any]:
        figures: dict[str, t.Any] = {"rows": self.rows, "requests": self.requests}
        if self.windows is not None:
            figures["windows"] = self.windows
        if self.first_day:
            figures["first_report_day"] = self.first_day
            figures["last_report_day"] = self.last_day
        return figures

    @classmethod
    def from_metadata(cls, values: t.Mapping[str, t.Any]) -> StreamFigures:
        return cls(rows=int(values.get("rows", 0)), requests=int(values.get("requests", 0)),
                   windows=values.get("windows"), first_day=values.get("first_report_day"),
                   last_day=values.get("last_report_day"))


class TapLog:
    """Figures per stream, fed line by line with what Meltano prints while it runs ``plugin``."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.streams: dict[str, StreamFigures] = {}
        self._metric_requests: dict[str, int] = {}

    def _stream(self, name: str) -> StreamFigures:
        return self.streams.setdefault(name, StreamFigures())

    def feed(self, line: str) -> None:
        console = CONSOLE_LINE.match(ANSI.sub("", line).rstrip("\n"))
        if not console or console["plugin"] != self.plugin:
            return
        message = console["message"].strip()
        if metric := METRIC.search(message):
            self._metric(metric["body"])
        elif summary := SUMMARY.match(message):
            figures = self._stream(summary["stream"])
            figures.requests = int(summary["requests"])
            figures.windows = int(summary["windows"])
            figures.summarized = True
        elif days := REPORT_DAYS.match(message):
            figures = self._stream(days["stream"])
            figures.first_day = min(filter(None, [figures.first_day, days["first"]]))
            figures.last_day = max(filter(None, [figures.last_day, days["last"]]))

    def _metric(self, body: str) -> None:
        try:
            metric = json.loads(body)
            stream, value = metric["tags"]["stream"], int(metric["value"])
        except (ValueError, KeyError, TypeError):
            return
        if metric.get("metric") == "record_count":
            self._stream(stream).rows += value
        elif metric.get("metric") == "http_request_count":
            self._metric_requests[stream] = self._metric_requests.get(stream, 0) + value

    def figures(self) -> dict[str, StreamFigures]:
        """Per stream, once the run has ended."""
        for stream, requests in self._metric_requests.items():
            figures = self._stream(stream)
            if not figures.summarized:
                figures.requests = requests
        return self.streams
