"""The targets of issue 14, as checks on table rows, and the tables printed with PASS/MISS beside the figures.

A check answers True (PASS), False (MISS) or None (the target does not apply to that row).
"""

from __future__ import annotations

import typing as t

RATIO_MIN = 0.7  # records/s of the tap over records/s of its bare baseline
RSS_MAX_MB = 150.0  # peak resident memory of the tap process, at any size
FLOOR_MAX = 1.15  # at real latency, wall time over the latency floor (requests x latency, one after another)
ADROLL_REPORT_REQUESTS_PER_DAY_MAX = 1.0  # per report stream, whatever the number of advertisables

Check = t.Callable[[dict], "bool | None"]


def _at_latency(column: str) -> Check:
    return lambda row: None if not row["latency_ms"] or row[column] is None else row[column] <= FLOOR_MAX


def _adroll_requests(column: str) -> Check:
    return lambda row: row[column] <= ADROLL_REPORT_REQUESTS_PER_DAY_MAX if row["tap"] == "tap-adroll" else None


def _ratio(row: dict) -> bool | None:
    return None if row.get("ratio_after_startup") is None else row["ratio_after_startup"] >= RATIO_MIN


def _rss(row: dict) -> bool | None:
    return row["peak_rss_mb"] < RSS_MAX_MB


THROUGHPUT_CHECKS: dict[str, Check] = {
    "ratio_after_startup": _ratio,
    "peak_rss_mb": _rss,
    "report_requests_per_day": _adroll_requests("report_requests_per_day"),
}
SCALE_CHECKS: dict[str, Check] = {
    "wall_over_floor": _at_latency("wall_over_floor"),
    "after_startup_over_floor": _at_latency("after_startup_over_floor"),
    "report_requests_per_day": _adroll_requests("report_requests_per_day"),
    "peak_rss_mb": _rss,
    "ratio_after_startup": _ratio,
}
# Requests in flight (inflight.py): each row against the run with one request in flight.
INFLIGHT_CHECKS: dict[str, Check] = {
    "records": lambda row: row["records"] == row["records_one_at_a_time"] == row["records_at_0ms"],
    "requests": lambda row: row["requests"] == row["requests_one_at_a_time"],
    "requests_at_0ms": lambda row: row["requests_at_0ms"] == row["requests_one_at_a_time"],
    "after_startup_over_bound": lambda row: None if row["after_startup_over_bound"] is None
    else row["after_startup_over_bound"] <= FLOOR_MAX,
    "peak_rss_mb": _rss,
}
TARGETS = {
    "ratio_after_startup": f"records/s >= {RATIO_MIN} x the bare loop (each without its start-up)",
    "peak_rss_mb": f"peak RSS < {RSS_MAX_MB:g} MB",
    "report_requests_per_day": f"AdRoll: <= {ADROLL_REPORT_REQUESTS_PER_DAY_MAX:g} report request per extracted day",
    "wall_over_floor": f"at latency: wall time <= {FLOOR_MAX} x the latency floor",
    "after_startup_over_floor": f"at latency: wall time after start-up <= {FLOOR_MAX} x the latency floor",
    "records": "the records of the run with one request in flight (at latency and at 0 ms)",
    "requests": "the requests of the run with one request in flight",
    "requests_at_0ms": "at 0 ms: the requests of the run with one request in flight",
    "after_startup_over_bound": (
        f"wall time after start-up <= {FLOOR_MAX} x max(latency floor / in flight, the same run's at 0 ms)"
    ),
}


def render(rows: list[dict], columns: list[str], checks: dict[str, Check] | None = None) -> str:
    """A Markdown table; a checked cell reads ``<value> PASS`` or ``<value> MISS``."""
    checks = checks or {}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        cells = []
        for column in columns:
            value = "" if row.get(column) is None else str(row[column])
            verdict = checks[column](row) if column in checks else None
            cells.append(value if verdict is None else f"{value} {'PASS' if verdict else 'MISS'}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def misses(rows: list[dict], checks: dict[str, Check], label: t.Callable[[dict], str]) -> list[str]:
    """One line per missed target: which row, which target, the figure."""
    return [
        f"MISS {label(row)}: {TARGETS[column]} (measured {row[column]})"
        for row in rows
        for column, check in checks.items()
        if check(row) is False
    ]
