"""Unit tests of report-day planning: lookback arithmetic, windows, splitting."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from zoneinfo import ZoneInfo

from tap_rokt.windows import (
    INTERVALS,
    Window,
    bookmark_day,
    first_day,
    parse_setting_date,
    period_start,
    plan_windows,
    report_day,
)

D = dt.date


def test_first_run_starts_at_start_date():
    assert first_day(D(2025, 3, 1), None, 7, "day") == D(2025, 3, 1)


def test_incremental_run_rereads_lookback_days_before_the_bookmark():
    assert first_day(D(2025, 1, 1), D(2025, 3, 10), 7, "day") == D(2025, 3, 3)
    assert first_day(D(2025, 1, 1), D(2025, 3, 10), 0, "day") == D(2025, 3, 10)


def test_lookback_never_goes_before_start_date():
    assert first_day(D(2025, 3, 8), D(2025, 3, 10), 7, "day") == D(2025, 3, 8)


def test_lookback_rounds_down_to_whole_periods():
    # 2025-03-12 is a Wednesday; minus 7 days is Wednesday 03-05, whose week starts Monday 03-03.
    assert first_day(D(2025, 1, 1), D(2025, 3, 12), 7, "week") == D(2025, 3, 3)
    assert first_day(D(2025, 1, 1), D(2025, 3, 12), 7, "month") == D(2025, 3, 1)


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


def test_setting_dates():
    assert parse_setting_date("2025-03-01") == D(2025, 3, 1)
    assert parse_setting_date("2025-03-01T05:00:00Z") == dt.datetime(2025, 3, 1, 5, tzinfo=dt.timezone.utc)
    # A date names the report day itself; an instant is that instant's day in the report timezone.
    assert report_day(D(2025, 3, 1), ZoneInfo("Australia/Sydney")) == D(2025, 3, 1)
    assert report_day(parse_setting_date("2025-03-01T20:00:00Z"), ZoneInfo("Australia/Sydney")) == D(2025, 3, 2)
    assert report_day(parse_setting_date("2025-03-01T02:00:00Z"), ZoneInfo("America/New_York")) == D(2025, 2, 28)
    assert bookmark_day("2025-03-04T00:00:00Z") == D(2025, 3, 4)
    assert bookmark_day(None) is None


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
    first = first_day(start, bookmark, lookback, interval)
    assert first >= start
    assert first <= max(start, bookmark)  # the bookmark's day (and the lookback before it) is read again
    assert first <= max(start, bookmark - dt.timedelta(days=lookback))


def _days(start, end):
    day = start
    while day < end:
        yield day
        day += dt.timedelta(days=1)
