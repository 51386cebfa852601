"""Report-day arithmetic: first run, bookmark minus lookback, start_date floor, end_date (exclusive)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tap_adroll.report_days import end_day, first_day, setting_day
from tap_adroll.windows import Window, api_date, day_start, plan_windows

D = dt.date
UTC = dt.UTC


def plan_days(
    *, start_date: str, end_date: str | None, bookmark: str | None, lookback_days: int, today: dt.date | None = None
) -> list[dt.date]:
    """The report days of one run, planned as the report streams plan them."""
    now = dt.datetime.combine(today, dt.time(12), UTC) if today else None
    start = setting_day(start_date)
    first = first_day(start, bookmark or start_date, lookback_days)
    return [window.start for window in plan_windows({"A": first}, end_day(end_date, UTC, now))]


def report_days(first: dt.date, end: dt.date) -> list[dt.date]:
    return [window.start for window in plan_windows({"A": first}, end)]


def bookmark_day(value: str | None) -> dt.date | None:
    return setting_day(value) if value else None


def test_first_run_extracts_start_date_to_the_day_before_end_date():
    days = plan_days(start_date="2025-03-01", end_date="2025-03-04", bookmark=None, lookback_days=3)
    assert days == [D(2025, 3, 1), D(2025, 3, 2), D(2025, 3, 3)]


def test_incremental_run_starts_lookback_days_before_the_bookmark():
    days = plan_days(start_date="2025-03-01", end_date="2025-03-12", bookmark="2025-03-08T00:00:00+00:00", lookback_days=3)
    assert days == report_days(D(2025, 3, 5), D(2025, 3, 12))
    assert days[0] == D(2025, 3, 5) and days[-1] == D(2025, 3, 11) and len(days) == 7


def test_lookback_never_goes_before_start_date():
    assert first_day(D(2025, 3, 1), "2025-03-02T00:00:00+00:00", 3) == D(2025, 3, 1)
    assert first_day(D(2025, 3, 1), "2025-03-10T00:00:00+00:00", 0) == D(2025, 3, 10)
    assert first_day(D(2025, 3, 1), None, 3) == D(2025, 3, 1)


def test_end_date_defaults_to_today_exclusive():
    days = plan_days(start_date="2025-03-01", end_date=None, bookmark=None, lookback_days=3, today=D(2025, 3, 5))
    assert days == [D(2025, 3, 1), D(2025, 3, 2), D(2025, 3, 3), D(2025, 3, 4)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z", 2),
        ("2025-03-01T18:30:00+00:00", "2025-03-03T12:00:00Z", 2),  # the time of day does not move the day
        ("2025-03-01T23:30:00-05:00", "2025-03-05", 4),  # nor does the offset: 1 March as written
        ("2025-03-03", "2025-03-03", 0),
    ],
)
def test_settings_dates_and_instants(start, end, expected):
    assert len(plan_days(start_date=start, end_date=end, bookmark=None, lookback_days=3)) == expected


def test_bookmark_and_api_formats():
    assert bookmark_day("2025-03-08T00:00:00+00:00") == D(2025, 3, 8)
    assert bookmark_day(None) is None
    assert api_date(D(2025, 3, 8)) == "03-08-2025"
    assert day_start(D(2025, 3, 8)) == "2025-03-08T00:00:00+00:00"


def test_each_day_is_asked_for_the_advertisables_that_need_it():
    windows = plan_windows({"OLD": D(2025, 3, 3), "NEW": D(2025, 3, 1)}, D(2025, 3, 5))
    assert [(w.start, w.advertisables) for w in windows] == [
        (D(2025, 3, 1), ("NEW",)),
        (D(2025, 3, 2), ("NEW",)),
        (D(2025, 3, 3), ("OLD", "NEW")),
        (D(2025, 3, 4), ("OLD", "NEW")),
    ]
    assert plan_windows({}, D(2025, 3, 5)) == []
    assert Window(D(2025, 3, 1)).end == D(2025, 3, 2)


@given(
    start=st.dates(D(2020, 1, 1), D(2030, 1, 1)),
    length=st.integers(0, 400),
    bookmark_offset=st.one_of(st.none(), st.integers(-30, 400)),
    lookback=st.integers(0, 60),
)
def test_every_planned_day_is_requested_once_in_order_and_none_is_skipped(start, length, bookmark_offset, lookback):
    end = start + dt.timedelta(days=length)
    bookmark = None if bookmark_offset is None else (start + dt.timedelta(days=bookmark_offset)).isoformat() + "T00:00:00+00:00"
    planned = plan_days(start_date=start.isoformat(), end_date=end.isoformat(), bookmark=bookmark, lookback_days=lookback)
    assert planned == sorted(set(planned))  # ascending, each day once: one request per day
    assert all(start <= day < end for day in planned)
    if planned:
        assert planned[-1] == end - dt.timedelta(days=1)  # up to the day before end_date
        marked = bookmark_day(bookmark)
        # The bookmark's day and the lookback days before it are read again; nothing after it is skipped.
        expected_first = start if marked is None else max(start, marked - dt.timedelta(days=lookback))
        assert planned[0] == expected_first
