"""Report windows: one report day each, the way the AdRoll report endpoints are asked.

Report days are calendar days (report_days.py says which); rows are stamped with the day's midnight UTC. The
report endpoints take ``start_date``/``end_date`` as ``MM-DD-YYYY``, both inclusive; the tap asks for one day
per request (start = end = the day), for every selected advertisable that needs the day at once, so no answer
ever mixes two days and a bookmark only advances past a day once all of it was emitted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

API_DATE_FORMAT = "%m-%d-%Y"


@dataclasses.dataclass(frozen=True)
class Window:
    """One report day: ``start`` (inclusive) to ``end`` (exclusive, the next day), and the advertisables asked for
    it: those whose own bookmark (or ``start_date``) reaches back to the day."""

    start: dt.date
    advertisables: tuple[str, ...] = ()

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=1)

    def __str__(self) -> str:
        return self.start.isoformat()


def plan_windows(firsts: t.Mapping[str, dt.date], end: dt.date) -> list[Window]:
    """One window per day from the earliest of ``firsts`` (each advertisable's first report day) to ``end``
    (exclusive), in order, each for the advertisables that need the day; one request a day covers them all."""
    if not firsts:
        return []
    first = min(firsts.values())
    days = (first + dt.timedelta(days=n) for n in range(max((end - first).days, 0)))
    return [Window(day, tuple(eid for eid, since in firsts.items() if since <= day)) for day in days]


def api_date(day: dt.date) -> str:
    """A day as the report endpoints take it: ``MM-DD-YYYY``."""
    return day.strftime(API_DATE_FORMAT)


def day_start(day: dt.date) -> str:
    """The ``date`` stamp of a report row: the day's midnight UTC as an ISO 8601 date-time."""
    return dt.datetime.combine(day, dt.time(), dt.UTC).isoformat()
