"""Unit tests of report-day planning: lookback arithmetic, windows, splitting."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from tap_rokt.report_days import end_day, first_day, setting_day
from tap_rokt.windows import INTERVALS, Window, first_period_day, period_start, plan_windows

D = dt.date


def _first(start: dt.date, bookmark: dt.date | None, lookback: int, interval: str) -> dt.date:
    """The first day a run extracts, from a bookmark as the tap stores it (a period start's date-time)."""
    stored = f"{bookmark.isoformat()}T00:00:00Z" if bookmark else None
    return first_period_day(start, first_day(start, stored, lookback), interval)


def test_first_run_starts_at_start_date():
    assert _first(D(2025, 3, 1), None, 7, "day") == D(2025, 3, 1)


def test_incremental_run_rereads_lookback_days_before_the_bookmark():
    assert _first(D(2025, 1, 1), D(2025, 3, 10), 7, "day") == D(2025, 3, 3)
    assert _first(D(2025, 1, 1), D(2025, 3, 10), 0, "day") == D(2025, 3, 10)


def test_lookback_never_goes_before_start_date():
    assert _first(D(2025, 3, 8), D(2025, 3, 10), 7, "day") == D(2025, 3, 8)


def test_lookback_rounds_down_to_whole_periods():
    # 2025-03-12 is a Wednesday; minus 7 days is Wednesday 03-05, whose week starts Monday 03-03.
    assert _first(D(2025, 1, 1), D(2025, 3, 12), 7, "week") == D(2025, 3, 3)
    assert _first(D(2025, 1, 1), D(2025, 3, 12), 7, "month") == D(2025, 3, 1)


def test_daily_windows_are_cut_at_max_days():
    windows = plan_windows(D(2025, 1, 1), D(2025, 3, 1), "day", 31)
    assert [(w.start, w.end) for w in windows] == [(D(2025, 1, 1), D(2025, 2, 1)), (D(2025, 2, 1), D(2025, 3, 1))]


def test_weekly_windows_never_split_a_week_and_clip_the_edges():
    windows = plan_windows(D(2025, 3, 5), D(2025, 3, 20), "week", 7)
    assert [(w.start, w.end) for w in windows] == [
        (D(2025, 3, 5), D(2025, 3, 10)),
        (D(2025, 3, 10), D(2025, 3, 17)),
        (D(2025, 3, 17), D(2025, 3, 20)),
    ]


def test_empty_range_has_no_windows():
    assert plan_windows(D(2025, 3, 5), D(2025, 3, 5), "day", 31) == []


def test_split_halves_a_window_and_refuses_a_single_period():
    window = plan_windows(D(2025, 3, 1), D(2025, 3, 6), "day", 31)[0]
    first, second = window.split()
    assert (first.start, first.end, second.start, second.end) == (D(2025, 3, 1), D(2025, 3, 3), D(2025, 3, 3), D(2025, 3, 6))
    assert Window(((D(2025, 3, 1), D(2025, 3, 2)),)).split() is None


def test_setting_dates_name_report_days_as_written():
    # A date or a date-time names its calendar date, in every timezone: the time and offset never move it.
    for written in ("2025-03-01", "2025-03-01T00:00:00Z", "2025-03-01T23:30:00-05:00", "2025-03-01T00:00:00+11:00"):
        assert setting_day(written) == D(2025, 3, 1)
    now = dt.datetime(2025, 3, 2, 3, 0, tzinfo=dt.UTC)  # 22:00 on 1 March in New York, 14:00 on 2 March in Sydney
    assert end_day(None, ZoneInfo("America/New_York"), now) == D(2025, 3, 1)
    assert end_day(None, ZoneInfo("Australia/Sydney"), now) == D(2025, 3, 2)
    assert end_day("2025-07-01T00:00:00Z", ZoneInfo("America/New_York"), now) == D(2025, 7, 1)


@given(
    start=st.dates(D(2020, 1, 1), D(2030, 1, 1)),
    length=st.integers(0, 800),
    interval=st.sampled_from(INTERVALS),
    max_days=st.integers(1, 400),
    splits=st.lists(st.integers(0, 50), max_size=5),
)
def test_windows_cover_every_day_exactly_once(start, length, interval, max_days, splits):
    end = start + dt.timedelta(days=length)
    windows = plan_windows(start, end, interval, max_days)
    for index in splits:  # splitting keeps the cover exact
        if windows:
            position = index % len(windows)
            halves = windows[position].split()
            if halves:
                windows[position : position + 1] = list(halves)
    covered = [day for w in windows for day in _days(w.start, w.end)]
    assert covered == list(_days(start, end))
    for window in windows:
        for period_first, period_end in window.periods:  # periods never straddle a period boundary
            assert period_start(period_end - dt.timedelta(days=1), interval) == period_start(period_first, interval)
        assert len(window.periods) == 1 or (window.end - window.start).days <= max_days


@given(
    start=st.dates(D(2020, 1, 1), D(2030, 1, 1)),
    bookmark_offset=st.integers(-30, 800),
    lookback=st.integers(0, 60),
    interval=st.sampled_from(INTERVALS),
)
def test_incremental_start_never_skips_the_bookmark_day(start, bookmark_offset, lookback, interval):
    bookmark = start + dt.timedelta(days=bookmark_offset)
    first = _first(start, bookmark, lookback, interval)
    assert first >= start
    assert first <= max(start, bookmark)  # the bookmark's day (and the lookback before it) is read again
    assert first <= max(start, bookmark - dt.timedelta(days=lookback))


def _days(start, end):
    day = start
    while day < end:
        yield day
        day += dt.timedelta(days=1)
