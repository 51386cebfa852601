"""Report date windows: which report days a run extracts, and in which requests.

Report days are calendar days in the report's timezone (report_days.py says which). Those days are cut into
periods of the report ``interval`` and grouped into windows of at most
``max_days`` days; a window never splits a period, so no period's row is ever built from two requests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

INTERVALS = ("day", "week", "month", "year")


@dataclasses.dataclass(frozen=True)
class Window:
    """Consecutive report periods requested together: days ``start`` (inclusive) to ``end`` (exclusive)."""

    periods: tuple[tuple[dt.date, dt.date], ...]

    @property
    def start(self) -> dt.date:
        return self.periods[0][0]

    @property
    def end(self) -> dt.date:
        return self.periods[-1][1]

    def split(self) -> tuple[Window, Window] | None:
        """Two halves of this window, or None when it is a single period."""
        if len(self.periods) < 2:
            return None
        middle = len(self.periods) // 2
        return Window(self.periods[:middle]), Window(self.periods[middle:])

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()} (end exclusive)"


def period_start(day: dt.date, interval: str) -> dt.date:
    if interval == "day":
        return day
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown interval {interval!r}")


def next_period_start(day: dt.date, interval: str) -> dt.date:
    start = period_start(day, interval)
    if interval == "day":
        return start + dt.timedelta(days=1)
    if interval == "week":
        return start + dt.timedelta(days=7)
    if interval == "month":
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start.replace(year=start.year + 1)


def first_period_day(start: dt.date, first: dt.date, interval: str) -> dt.date:
    """The first day of the period holding ``first`` (a re-read covers whole periods), never before ``start``."""
    return max(start, period_start(first, interval))


def plan_windows(first: dt.date, end: dt.date, interval: str, max_days: int) -> list[Window]:
    """Windows covering every day of ``[first, end)`` exactly once, each at most ``max_days`` long
    unless a single period is longer."""
    periods: list[tuple[dt.date, dt.date]] = []
    cursor = first
    while cursor < end:
        following = min(next_period_start(cursor, interval), end)
        periods.append((cursor, following))
        cursor = following
    windows: list[Window] = []
    group: list[tuple[dt.date, dt.date]] = []
    for period in periods:
        if group and (period[1] - group[0][0]).days > max_days:
            windows.append(Window(tuple(group)))
            group = []
        group.append(period)
    if group:
        windows.append(Window(tuple(group)))
    return windows


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    """One report request of a partition: the query fixed for its run (``streams.PartitionQuery``) and a window."""

    query: t.Any
    window: Window
