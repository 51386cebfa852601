"""Report date windows: which report days a run extracts, and in which requests.

Report days are calendar days (UTC, or the IANA ``time_zone`` when one is set). A run extracts the days
from ``start_date`` (first run) or ``bookmark - lookback_window_days`` (later runs; never before
``start_date``) up to, not including, the day of ``end_date`` (default: today, so only whole days).
Those days are cut into periods of the rollup (day, week, month; hours go by day) and grouped into windows
of at most ``report_window_days`` days; a window never splits a period, so no row is ever built from two requests.
Each window is sent as ``start_time``/``end_time`` (RFC 3339, end exclusive), never with ``time_window``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import typing as t

from singer_sdk.pagination import BaseAPIPaginator

if t.TYPE_CHECKING:
    import requests

UTC = dt.timezone.utc
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


def parse_setting_date(value: str) -> dt.datetime | dt.date:
    """A ``start_date``/``end_date`` setting: a date (a report day) or a date-time (an instant, UTC if naive)."""
    text = str(value).strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def report_day(value: dt.datetime | dt.date, zone: dt.tzinfo) -> dt.date:
    """The report day a setting names in ``zone``: a date as written; an instant's date in that zone."""
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).date()
    return value


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


def bookmark_day(value: t.Any) -> dt.date | None:
    """The report day of a bookmark (an ``agg_timestamp`` such as ``2025-03-04T00:00:00Z``)."""
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def first_day(start: dt.date, bookmark: dt.date | None, lookback_days: int, rollup: str) -> dt.date:
    """The first report day to extract: ``lookback_days`` before the bookmark, whole periods, never before start."""
    if bookmark is None:
        return start
    return max(start, period_start(bookmark - dt.timedelta(days=lookback_days), PERIOD_OF_ROLLUP.get(rollup, "day")))


def plan_windows(first: dt.date, end: dt.date, rollup: str, report_window_days: int, zone: dt.tzinfo = UTC,
                 pad_days: int = 0) -> list[Window]:
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


class WindowPaginator(BaseAPIPaginator[Page]):
    """Walks a partition's windows (and, in paginated mode, each window's pages) as the SDK walks pages.

    The next page of a window exists while ``page_index + 1 < total_pages`` (read by the stream from the
    answer's ``meta`` into ``response.mediamath_total_pages``); then the next window starts at page 0.
    When the stream marks an answer ``mediamath_retry`` (its connection broke mid-body), the same window and
    page come again with ``attempt + 1``, so the SDK's loop detection (a token equal to the last) is not tripped.
    """

    def __init__(self, windows: t.Sequence[Window], paginated: bool) -> None:
        self._paginated = paginated
        first = windows[0]
        super().__init__(Page(first, 0 if paginated else None))
        self._queue = collections.deque(windows[1:])

    def continue_if_empty(self, response: requests.Response) -> bool:  # noqa: ARG002
        return True  # a window without rows is no reason to stop

    def get_next(self, response: requests.Response) -> Page | None:
        current = self.current_value
        if getattr(response, "mediamath_retry", False):
            return Page(current.window, current.page_index, current.attempt + 1)
        if self._paginated:
            total_pages = getattr(response, "mediamath_total_pages", 0) or 0
            if current.page_index is not None and current.page_index + 1 < total_pages:
                return Page(current.window, current.page_index + 1)
        if not self._queue:
            return None
        return Page(self._queue.popleft(), 0 if self._paginated else None)
