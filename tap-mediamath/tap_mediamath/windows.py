"""Report date windows: which report days a run extracts, and in which requests.

Report days are calendar days (UTC, or the IANA ``time_zone`` when one is set; report_days.py says which).
Those days are cut into periods of the rollup (day, week, month; hours go by day) and grouped into windows
of at most ``report_window_days`` days; a window never splits a period, so no row is ever built from two requests.
Each window is sent as ``start_time``/``end_time`` (RFC 3339, end exclusive), never with ``time_window``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

UTC = dt.UTC
PERIOD_OF_ROLLUP = {"by_hour": "day", "by_day": "day", "by_week": "week", "by_month": "month", "all": "all"}


@dataclasses.dataclass(frozen=True)
class Window:
    """Report days ``start`` (inclusive) to ``end`` (exclusive), in ``zone``.

    ``pad_days`` widens the request on both sides: with ``time_zone: campaign`` each campaign's days have
    their own offset, so no single pair of instants bounds them; the stream asks one day more on each side
    and keeps the rows whose report day is in ``[start, end)``, which are then whole.
    """

    start: dt.date
    end: dt.date
    zone: dt.tzinfo = UTC
    pad_days: int = 0

    @property
    def start_time(self) -> str:
        day = self.start - dt.timedelta(days=self.pad_days)
        return rfc3339(dt.datetime(day.year, day.month, day.day, tzinfo=self.zone))

    @property
    def end_time(self) -> str:
        day = self.end + dt.timedelta(days=self.pad_days)
        return rfc3339(dt.datetime(day.year, day.month, day.day, tzinfo=self.zone))

    def holds(self, agg_timestamp: str) -> bool:
        """Whether a row's period (its report day, as written in ``agg_timestamp``) belongs to this window."""
        return self.start.isoformat() <= agg_timestamp[:10] < self.end.isoformat()

    def __str__(self) -> str:
        return f"{self.start_time}..{self.end_time}"


def rfc3339(moment: dt.datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def period_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def next_period_start(day: dt.date, period: str) -> dt.date:
    start = period_start(day, period)
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "month":
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start + dt.timedelta(days=1)


def first_period_day(start: dt.date, first: dt.date, rollup: str) -> dt.date:
    """The first day of the period holding ``first`` (a re-read covers whole periods), never before ``start``."""
    return max(start, period_start(first, PERIOD_OF_ROLLUP.get(rollup, "day")))


def last_period_start(window: Window, rollup: str) -> dt.date:
    """The first day of the last period in ``window``: what that period's rows carry as ``agg_timestamp``."""
    return period_start(window.end - dt.timedelta(days=1), PERIOD_OF_ROLLUP.get(rollup, "day"))


def plan_windows(
    first: dt.date, end: dt.date, rollup: str, report_window_days: int, zone: dt.tzinfo = UTC, pad_days: int = 0
) -> list[Window]:
    """Windows covering every day of ``[first, end)`` exactly once, each at most ``report_window_days`` long unless
    a single period is longer; ``rollup=all`` is one window (a single aggregate over the whole range)."""
    if first >= end:
        return []
    period = PERIOD_OF_ROLLUP.get(rollup, "day")
    if period == "all":
        return [Window(first, end, zone)]  # no periods, nothing to pad
    windows: list[Window] = []
    group_start = cursor = first
    while cursor < end:
        following = min(next_period_start(cursor, period), end)
        if cursor > group_start and (following - group_start).days > report_window_days:
            windows.append(Window(group_start, cursor, zone, pad_days))
            group_start = cursor
        cursor = following
    windows.append(Window(group_start, end, zone, pad_days))
    return windows


@dataclasses.dataclass(frozen=True)
class Page:
    """One request of a partition: a window and, in paginated mode, a page index."""

    window: Window
    page_index: int | None = None  # None: the streaming answer
    attempt: int = 0  # 1, 2, ...: the request again after the connection broke mid-answer (a distinct token)
