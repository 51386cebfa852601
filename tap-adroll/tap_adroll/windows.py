"""Report windows: one report day each, the way the AdRoll report endpoints are asked.

Report days are calendar days (report_days.py says which); rows are stamped with the day's midnight UTC. The
report endpoints take ``start_date``/``end_date`` as ``MM-DD-YYYY``, both inclusive; the tap asks for one day
per request (start = end = the day), for every selected advertisable at once, so no answer ever mixes two
days and a bookmark only advances past a day once all of it was emitted.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

if t.TYPE_CHECKING:
    import requests

API_DATE_FORMAT = "%m-%d-%Y"


@dataclasses.dataclass(frozen=True)
class Window:
    """One report day: ``start`` (inclusive) to ``end`` (exclusive, the next day)."""

    start: dt.date

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=1)

    def __str__(self) -> str:
        return self.start.isoformat()


def plan_windows(first: dt.date, end: dt.date) -> list[Window]:
    """One window per day of ``[first, end)``, in order."""
    return [Window(first + dt.timedelta(days=n)) for n in range(max((end - first).days, 0))]


def api_date(day: dt.date) -> str:
    """A day as the report endpoints take it: ``MM-DD-YYYY``."""
    return day.strftime(API_DATE_FORMAT)


def day_start(day: dt.date) -> str:
    """The ``date`` stamp of a report row: the day's midnight UTC as an ISO 8601 date-time."""
    return dt.datetime.combine(day, dt.time(), dt.UTC).isoformat()


class WindowPaginator(BaseAPIPaginator[Window]):
    """Walks a partition's report windows as the SDK walks pages: one request per day.

    The report endpoints have no pagination, so a stream's "pages" are its days; a day without
    rows is no reason to stop.
    """

    def __init__(self, windows: t.Sequence[Window]) -> None:
        super().__init__(windows[0])
        self._queue = collections.deque(windows[1:])

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        return True

    @override
    def get_next(self, response: requests.Response) -> Window | None:
        return self._queue.popleft() if self._queue else None
