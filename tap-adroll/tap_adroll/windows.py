"""Report days: which days a run extracts, one request per day.

Report days are calendar days (the report's timezone; rows are stamped with the day's midnight UTC).
A run extracts the days from ``start_date`` (first run) or ``bookmark - lookback_window_days``
(later runs; never before ``start_date``) up to, not including, the day of ``end_date`` (default:
today, so only whole days). The AdRoll report endpoints take ``start_date``/``end_date`` as
``MM-DD-YYYY``, both inclusive; the tap asks for one day per request (start = end = the day), so no
answer ever mixes two days and a bookmark only advances past a day once all of it was emitted.
"""

from __future__ import annotations

import collections
import datetime as dt
import typing as t

from singer_sdk.pagination import BaseAPIPaginator

if t.TYPE_CHECKING:
    import requests

API_DATE_FORMAT = "%m-%d-%Y"


def parse_setting_date(value: str) -> dt.datetime | dt.date:
    """A ``start_date``/``end_date`` setting: a date (a report day) or a date-time (an instant, UTC if naive)."""
    text = str(value).strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def setting_day(value: dt.datetime | dt.date) -> dt.date:
    """The UTC day a setting names: a date as written, an instant's UTC date."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).date()
    return value


def bookmark_day(value: t.Any) -> dt.date | None:
    """The report day of a bookmark (a ``date`` value such as ``2025-03-04T00:00:00+00:00``)."""
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def first_day(start: dt.date, bookmark: dt.date | None, lookback_days: int) -> dt.date:
    """The first day to extract: ``lookback_days`` before the bookmark, never before ``start``."""
    if bookmark is None:
        return start
    return max(start, bookmark - dt.timedelta(days=lookback_days))


def report_days(first: dt.date, end: dt.date) -> list[dt.date]:
    """Every day of ``[first, end)``, in order."""
    return [first + dt.timedelta(days=n) for n in range((end - first).days)]


def plan_days(
    *,
    start_date: str,
    end_date: str | None,
    bookmark: t.Any,
    lookback_days: int,
    today: dt.date | None = None,
) -> list[dt.date]:
    """The report days of one run, from the settings and a partition's bookmark."""
    start = setting_day(parse_setting_date(start_date))
    end = setting_day(parse_setting_date(end_date)) if end_date else (today or dt.datetime.now(dt.timezone.utc).date())
    return report_days(first_day(start, bookmark_day(bookmark), lookback_days), end)


def api_date(day: dt.date) -> str:
    """A day as the report endpoints take it: ``MM-DD-YYYY``."""
    return day.strftime(API_DATE_FORMAT)


def day_start(day: dt.date) -> str:
    """The ``date`` stamp of a report row: the day's midnight UTC as an ISO 8601 date-time."""
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).isoformat()


class DayPaginator(BaseAPIPaginator[dt.date]):
    """Walks a partition's report days as the SDK walks pages: one request per day.

    The report endpoints have no pagination, so a stream's "pages" are its days; a day without
    rows is no reason to stop.
    """

    def __init__(self, days: t.Sequence[dt.date]) -> None:
        super().__init__(days[0])
        self._queue = collections.deque(days[1:])

    def continue_if_empty(self, response: requests.Response) -> bool:  # noqa: ARG002
        return True

    def get_next(self, response: requests.Response) -> dt.date | None:  # noqa: ARG002
        return self._queue.popleft() if self._queue else None
