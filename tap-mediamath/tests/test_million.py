"""A streaming run of more than a million rows, counted exactly, in flat memory (slow: about a minute or two)."""

from __future__ import annotations

import datetime as dt

import pytest
from mediamath_support import LEAN_REPORT, count_records, lean_catalog, make_emulator, settings

# One organization of 8 campaigns x 4,600 strategies, 30 days: 36,800 strategies, about 1.02 million strategy-days.
SCALE = {"organizations": ((100001, "Big Spender Media"),), "strategies_per_campaign": 4600}
START, END = dt.date(2025, 1, 1), dt.date(2025, 1, 31)


@pytest.mark.slow
def test_a_million_row_stream_is_counted_exactly():
    with make_emulator(**SCALE) as emulator:
        expected = emulator.strategy_day_count(100001, START, END)
        assert expected >= 1_000_000
        # Week-long windows, 8 in flight: every window's answer is under way at once, each read as it arrives.
        config = settings(
            emulator,
            start_date=START.isoformat(),
            end_date=END.isoformat(),
            reports=[LEAN_REPORT],
            report_window_days=7,
            max_concurrent_requests=8,
        )
        result = count_records(config, lean_catalog(config))
    assert result["returncode"] == 0, result["stderr"]
    assert result["records"] == result["checked_records"] == expected  # each one checked against its SCHEMA
    assert result["state"]["bookmarks"]["lean"]["partitions"][0]["replication_key_value"] == "2025-01-30T00:00:00Z"
    assert 0 < result["peak_rss_mb"] < 150, result
    print(f"\n{expected} rows, {result['records_per_second']:.0f} records/s, peak RSS {result['peak_rss_mb']:.0f} MB, "
          f"{result['check_seconds']:.1f} s checking records against their schema")
