"""Unit tests without a process: the field catalog and schemas, request bodies, windows, the stream parser,
error messages and settings validation."""

from __future__ import annotations

import datetime as dt
import gc
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from mediamath_support import CLIENT_SECRET, ORG, PASSWORD
from singer_sdk.exceptions import ConfigValidationError
from tap_mediamath import schemas
from tap_mediamath.client import AnswerCount, StreamedAnswerError
from tap_mediamath.report_days import first_day
from tap_mediamath.streams import PERFORMANCE_FIELDS
from tap_mediamath.tap import TapMediaMath
from tap_mediamath.windows import Page, Window, first_period_day, plan_windows

BASE_CONFIG = {
    "client_id": "cid",
    "client_secret": CLIENT_SECRET,
    "username": "u@example.com",
    "password": PASSWORD,
    "organization_id": ORG,
    "start_date": "2025-01-01",
    "end_date": "2025-01-11",
    "api_url": "http://127.0.0.1:9/reporting/v2",
    "auth_url": "http://127.0.0.1:9/oauth/token",
}
REPO = Path(__file__).resolve().parents[2]


def tap(**overrides) -> TapMediaMath:
    return TapMediaMath(config={**BASE_CONFIG, **overrides}, validate_config=True, setup_mapper=False)


def stream(tap_: TapMediaMath, name: str = "performance"):
    return next(s for s in tap_.discover_streams() if s.name == name)


# ---------------------------------------------------------------------- catalog and schemas


def test_catalog_has_the_ten_datasets_and_their_tables():
    assert schemas.dataset_names() == [
        "all-dimensions-and-metrics",
        "brain-feature-summary",
        "brain-feature-value",
        "day-part",
        "deals",
        "performance",
        "performance-hourly",
        "pixel-loads",
        "reach-frequency",
        "win-loss",
    ]
    counts = {name: len(schemas.fields_of(name)) for name in schemas.dataset_names()}
    assert counts == {
        "all-dimensions-and-metrics": 260,
        "brain-feature-summary": 13,
        "brain-feature-value": 18,
        "day-part": 156,
        "deals": 16,
        "performance": 214,
        "performance-hourly": 181,
        "pixel-loads": 43,
        "reach-frequency": 117,
        "win-loss": 128,
    }
    performance = schemas.fields_of("performance")
    assert sum(1 for f in performance.values() if f["kind"] == "dimension") == 126
    assert sum(1 for f in performance.values() if f["kind"] == "metric") == 88
    assert schemas.dataset("performance")["rollups"] == ["all", "by_day", "by_week", "by_month"]
    assert schemas.dataset("performance-hourly")["time_zones"] == ["UTC", "campaign"]
    assert schemas.dataset("reach-frequency")["rollups"] == ["all"]


@pytest.mark.parametrize(
    ("field", "kind", "json_type"),
    [
        ("campaign_id", "dimension", {"type": "integer"}),
        ("strategy_id", "dimension", {"type": "integer"}),
        ("campaign_name", "dimension", {"type": "string"}),
        ("campaign_currency_code", "dimension", {"type": "string"}),
        ("campaign_created_on", "dimension", {"type": "string", "format": "date-time"}),
        ("agg_timestamp", "dimension", {"type": "string", "format": "date-time"}),
        ("campaign_archived", "dimension", {"type": "boolean"}),
        ("impressions", "metric", {"type": "number"}),
        ("total_spend_usd", "metric", {"type": "number"}),
    ],
)
def test_catalog_kinds_and_types(field, kind, json_type):
    spec = schemas.fields_of("performance")[field]
    assert spec["kind"] == kind
    assert {k: spec[k] for k in ("type", "format") if k in spec} == json_type


def test_shipped_catalog_is_what_the_generator_builds(tmp_path):
    openapi = REPO.parent / "shared" / "api-docs" / "mediamath-reporting-api-v2-openapi.yaml"
    if not openapi.exists():
        pytest.skip("shared/api-docs is not beside the repository")
    pytest.importorskip("yaml")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_field_catalog", REPO / "tap-mediamath/scripts/build_field_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "fields.json"
    assert module.main([str(openapi), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == schemas.catalog()
    assert json.loads((REPO / "emulators/mediamath_fields.json").read_text()) == schemas.catalog()


def test_report_schema_is_typed_from_the_catalog():
    schema = schemas.report_schema("performance", ["campaign_id", "campaign_name", "campaign_created_on", "total_spend"], "by_day")
    props = schema["properties"]
    assert list(props) == ["organization_id", "agg_timestamp", "campaign_id", "campaign_name", "campaign_created_on", "total_spend"]
    assert props["organization_id"]["type"] == ["integer"]
    assert props["agg_timestamp"] == {
        "type": ["string"],
        "format": "date-time",
        "description": "Start of the report period (by_day), RFC 3339",
    }
    assert props["campaign_id"]["type"] == ["integer", "null"]
    assert props["campaign_name"]["type"] == ["string", "null"]
    assert props["campaign_created_on"]["format"] == "date-time"
    assert props["total_spend"]["type"] == ["number", "null"]
    assert schema["required"] == ["organization_id", "agg_timestamp"]
    assert "agg_timestamp" not in schemas.report_schema("reach-frequency", ["campaign_id"], "all")["properties"]


def test_performance_stream_keys_fields_and_replication():
    performance = stream(tap())
    assert performance.primary_keys == ["organization_id", "agg_timestamp", "campaign_id", "strategy_id"]
    assert performance.replication_key == "agg_timestamp"
    assert list(performance.schema["properties"]) == ["organization_id", "agg_timestamp", *PERFORMANCE_FIELDS[1:]]


def test_custom_report_keys_are_agg_timestamp_and_its_dimensions():
    t = tap(
        reports=[
            {
                "name": "by_exchange",
                "dataset": "all-dimensions-and-metrics",
                "fields": ["exchange_id", "campaign_id", "impressions", "total_spend"],
                "rollup": "by_week",
            },
            {"name": "reach", "dataset": "reach-frequency", "fields": ["campaign_id", "frequency", "uniques"], "rollup": "all"},
        ]
    )
    custom = stream(t, "by_exchange")
    assert custom.primary_keys == ["organization_id", "agg_timestamp", "exchange_id", "campaign_id"]
    assert custom.replication_key == "agg_timestamp"
    reach = stream(t, "reach")
    assert reach.primary_keys == ["organization_id", "campaign_id", "frequency"]
    assert reach.replication_key is None  # rollup=all has no period: full table


# ---------------------------------------------------------------------- request bodies


def test_performance_request_body_has_filters_window_and_no_time_window():
    body = stream(tap()).request_body({"organization_id": ORG}, Page(Window(dt.date(2025, 1, 1), dt.date(2025, 1, 8))))
    assert body == {
        "fields": list(PERFORMANCE_FIELDS),
        "filters": [{"field": "organization_id", "op": "=", "value": ORG}],
        "rollup": "by_day",
        "start_time": "2025-01-01T00:00:00Z",
        "end_time": "2025-01-08T00:00:00Z",
        "order": [{"field": "agg_timestamp", "desc": False}],
    }
    assert "time_window" not in body and "pagination" not in body and "time_zone" not in body


def test_custom_filters_pass_through_exactly_with_advertisers_and_pages():
    filters = [
        {"field": "campaign_currency_code", "value": ["EUR", "GBP"]},
        {
            "field": "x",
            "op": "or",
            "filters": [
                {"field": "impressions", "op": ">=", "value": 30000},
                {
                    "field": "x",
                    "op": "and",
                    "filters": [
                        {"field": "campaign_name", "op": "=~", "value": "campaign"},
                        {"field": "strategy_channel", "op": "!=", "value": "VIDEO"},
                    ],
                },
            ],
        },
        {"field": "deal_id", "op": "isNull"},
    ]
    t = tap(
        advertiser_ids=[300001, 300002],
        response_mode="paginated",
        page_size=500,
        reports=[
            {
                "name": "eur_gbp",
                "dataset": "all-dimensions-and-metrics",
                "fields": ["campaign_id", "total_spend"],
                "filters": filters,
                "rollup": "by_month",
            },
        ],
    )
    partition = {"organization_id": ORG, "advertiser_id": 300001}
    body = stream(t, "eur_gbp").request_body(partition, Page(Window(dt.date(2025, 1, 1), dt.date(2025, 3, 1)), 2))
    assert body["fields"] == ["organization_id", "campaign_id", "total_spend"]
    assert body["filters"] == [
        {"field": "organization_id", "op": "=", "value": ORG},
        {"field": "advertiser_id", "op": "=", "value": 300001},  # one partition per advertiser of advertiser_ids
        *filters,
    ]
    assert body["rollup"] == "by_month"
    assert body["pagination"] == {"page_size": 500, "page_index": 2}
    assert (body["start_time"], body["end_time"]) == ("2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z")


def test_time_zone_is_sent_only_where_the_dataset_supports_it():
    t = tap(
        time_zone="America/New_York",
        reports=[
            {"name": "hourly", "dataset": "performance-hourly", "fields": ["campaign_id", "impressions"], "rollup": "by_hour"},
        ],
    )
    window = Window(dt.date(2025, 1, 1), dt.date(2025, 1, 2), stream(t, "hourly").window_zone)
    hourly = stream(t, "hourly").request_body({"organization_id": ORG}, Page(window))
    assert hourly["time_zone"] == "America/New_York"
    assert (hourly["start_time"], hourly["end_time"]) == ("2025-01-01T00:00:00-05:00", "2025-01-02T00:00:00-05:00")
    whole_day = Page(Window(dt.date(2025, 1, 1), dt.date(2025, 1, 2)))
    assert "time_zone" not in stream(t, "performance").request_body({"organization_id": ORG}, whole_day)


# ---------------------------------------------------------------------- windows


def test_windows_cover_every_day_once_in_periods():
    days = plan_windows(dt.date(2025, 1, 1), dt.date(2025, 1, 11), "by_day", 7)
    assert [(w.start_time, w.end_time) for w in days] == [
        ("2025-01-01T00:00:00Z", "2025-01-08T00:00:00Z"),
        ("2025-01-08T00:00:00Z", "2025-01-11T00:00:00Z"),
    ]
    months = plan_windows(dt.date(2025, 1, 15), dt.date(2025, 4, 10), "by_month", 31)
    assert [(str(w.start), str(w.end)) for w in months] == [
        ("2025-01-15", "2025-02-01"),
        ("2025-02-01", "2025-03-01"),
        ("2025-03-01", "2025-04-01"),
        ("2025-04-01", "2025-04-10"),
    ]
    assert plan_windows(dt.date(2025, 1, 1), dt.date(2025, 2, 1), "all", 7) == [Window(dt.date(2025, 1, 1), dt.date(2025, 2, 1))]
    assert plan_windows(dt.date(2025, 1, 5), dt.date(2025, 1, 5), "by_day", 7) == []


def _first(start: dt.date, bookmark: dt.date | None, lookback: int, rollup: str) -> dt.date:
    """The first day a run extracts, from a bookmark as the tap stores it (a period start's date-time)."""
    stored = f"{bookmark.isoformat()}T00:00:00Z" if bookmark else None
    return first_period_day(start, first_day(start, stored, lookback), rollup)


def test_first_day_goes_back_the_lookback_but_never_before_start():
    start = dt.date(2025, 1, 1)
    assert _first(start, None, 3, "by_day") == start
    assert _first(start, dt.date(2025, 1, 10), 3, "by_day") == dt.date(2025, 1, 7)
    assert _first(start, dt.date(2025, 1, 2), 3, "by_day") == start
    assert _first(start, dt.date(2025, 1, 16), 3, "by_week") == dt.date(2025, 1, 13)  # whole weeks


def test_row_dates_allowed_are_the_window_widened_to_its_periods():
    t = tap(
        reports=[
            {"name": "weekly", "dataset": "performance", "fields": ["campaign_id", "impressions"], "rollup": "by_week"},
            {"name": "local", "dataset": "performance-hourly", "fields": ["campaign_id", "impressions"], "time_zone": "campaign"},
        ]
    )
    window = Window(dt.date(2025, 1, 1), dt.date(2025, 1, 8))
    assert stream(t)._allowed_days(window) == ("2025-01-01", "2025-01-08")
    assert stream(t, "weekly")._allowed_days(window) == ("2024-12-30", "2025-01-08")  # a clipped first week
    padded = Window(dt.date(2025, 1, 1), dt.date(2025, 1, 8), pad_days=1)
    assert stream(t, "local")._allowed_days(padded) == ("2024-12-30", "2025-01-10")
    assert stream(t)._metrics == (
        "impressions",
        "clicks",
        "post_click_conversions",
        "post_view_conversions",
        "total_conversions",
        "total_spend",
        "total_spend_usd",
        "total_revenue",
        "total_revenue_usd",
    )


def test_a_window_whose_connection_keeps_breaking_fails_after_the_request_retries(monkeypatch, caplog, capfd):
    """Each broken answer is asked for again after the request retries' wait, at most MAX_TRIES times in all."""
    import re

    from mediamath_support import make_emulator, settings
    from tap_mediamath import streams as stream_module

    waits: list[float] = []
    monkeypatch.setattr(stream_module, "_sleep", waits.append)
    with make_emulator() as emulator:
        emulator.faults.add("cut", path="/reporting/v2/performance", after_bytes=20_000, times=6)
        tap_ = TapMediaMath(config=settings(emulator), validate_config=True)
        with pytest.raises(StreamedAnswerError) as error:
            tap_.sync_all()
        tap_.message_writer.flush()  # the broken window's rows left in the writer's block, while output is captured
        assert len(emulator.calls("/reporting/v2/performance")) == 6
    assert re.fullmatch(
        r"MediaMath performance: POST /performance for organization 100001, window 2025-01-01T00:00:00Z\.\."
        r"2025-01-08T00:00:00Z: the connection broke after \d+ rows of the stream \(\w+\); gave up after 6 tries",
        str(error.value),
    ), str(error.value)
    assert len(waits) == 5 and all(2**n / 2 <= wait <= 2**n for n, wait in enumerate(waits)), waits
    assert caplog.text.count("the window's rows already emitted come again") == 5


# ---------------------------------------------------------------------- the stream parser


class FakeStreamedResponse:
    """What ``requests`` hands the tap with ``stream=True``: lines read on demand."""

    def __init__(self, lines):
        self._lines = lines
        self.pulled = 0
        self.closed = False

    def iter_lines(self, chunk_size=512):
        for line in self._lines:
            self.pulled += 1
            yield line if isinstance(line, bytes) else json.dumps(line).encode()

    def close(self):
        self.closed = True


HEADER = {"fields": [{"name": "agg_timestamp"}, {"name": "campaign_id"}, {"name": "total_spend"}], "total_items_count": 3}
ROWS = [{"campaign_id": n, "total_spend": 1.1 * n, "agg_timestamp": "2025-01-01T00:00:00Z"} for n in (1, 2, 3)]
WHERE = "MediaMath performance: POST /performance for organization 100001, window 2025-01-01T00:00:00Z..2025-01-08T00:00:00Z"


def parse(lines):
    count = AnswerCount()
    response = FakeStreamedResponse(lines)
    rows = list(stream(tap()).streamed_rows(response, count, WHERE))
    assert response.closed
    return rows, count


def test_parser_skips_meta_lines_and_checks_the_header_count():
    rows, count = parse([HEADER, {"meta": {}}, ROWS[0], ROWS[1], {"meta": {"progress": 0.5}}, b"", ROWS[2]])
    assert [r["campaign_id"] for r in rows] == [1, 2, 3]
    assert rows[2]["total_spend"] == Decimal("3.3000000000000003")  # numbers kept exactly as sent
    assert (count.announced, count.received) == (3, 3)


def test_parser_accepts_any_count_when_the_api_could_not_count():
    rows, count = parse([{**HEADER, "total_items_count": -1}, *ROWS, ROWS[0]])
    assert len(rows) == 4 and count.announced == -1


def test_parser_fails_on_a_short_stream_naming_the_window():
    with pytest.raises(StreamedAnswerError) as error:
        parse([HEADER, ROWS[0], {"meta": {}}, ROWS[1]])
    assert str(error.value) == (f"{WHERE}: received 2 rows but the API announced total_items_count 3; the answer was cut short")


def test_parser_fails_on_an_error_object_in_the_stream():
    failure = {"error_code": "InternalServerError", "request_id": "74K33s47Yd1ns97E9RZsfFhn1Gj0ehYs", "message": "query timed out"}
    with pytest.raises(StreamedAnswerError) as error:
        parse([HEADER, ROWS[0], failure])
    assert str(error.value) == (
        f"{WHERE}: the stream failed after 1 rows: InternalServerError: query timed out (request_id 74K33s47Yd1ns97E9RZsfFhn1Gj0ehYs)"
    )


def test_parser_fails_on_a_missing_header_and_on_garbage():
    with pytest.raises(StreamedAnswerError, match="no header line"):
        parse([])
    with pytest.raises(StreamedAnswerError, match="does not start with a header line"):
        parse([ROWS[0]])
    with pytest.raises(StreamedAnswerError, match="line 2 of the stream is not JSON"):
        parse([HEADER, ROWS[0], b'{"campaign_id": 4, "tot'])


def test_parser_reads_lazily_in_constant_memory():
    """200,000 rows pass through the parser while it holds only the line at hand."""
    total = 200_000

    def lines():
        yield {**HEADER, "total_items_count": total}
        for n in range(total):
            yield {"campaign_id": n, "total_spend": 12.34, "agg_timestamp": "2025-01-01T00:00:00Z"}

    response = FakeStreamedResponse(lines())
    count = AnswerCount()
    rows = stream(tap()).streamed_rows(response, count, WHERE)
    first = next(rows)
    assert first["campaign_id"] == 0 and response.pulled == 2  # header + one row: nothing read ahead
    gc.collect()
    tracemalloc.start()
    seen = 1
    for _ in rows:
        seen += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seen == total and count.received == total
    assert peak < 2_000_000, f"parser held {peak} bytes"


# ---------------------------------------------------------------------- error messages


def _response(status: int, body: dict, request_body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = {400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests"}[status]
    response._content = json.dumps(body).encode()
    response.url = "http://127.0.0.1:9/reporting/v2/performance"
    response.request = requests.Request(
        "POST", response.url, json=request_body, headers={"Authorization": "Bearer eyJsecret.token.sig"}
    ).prepare()
    return response


def test_error_message_names_request_window_and_api_error_without_secrets():
    body = {"error_code": "BadRequest", "request_id": "RQ123", "message": "field does not exist in this dataset: nope"}
    request_body = {"fields": ["nope"], "start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-08T00:00:00Z"}
    message = stream(tap()).response_error_message(_response(400, body, request_body))
    assert message == (
        "MediaMath API POST /reporting/v2/performance (window 2025-01-01T00:00:00Z..2025-01-08T00:00:00Z) failed: "
        "400 Bad Request: BadRequest: field does not exist in this dataset: nope (request_id RQ123)"
    )
    assert "Bearer" not in message and "secret" not in message


# ---------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("overrides", "first_error"),
    [
        ({"organization_id": None}, "organization_id"),
        ({"page_size": 20000}, "page_size"),
        ({"response_mode": "csv"}, "response_mode"),
        ({"time_zone": "Mars/Olympus"}, "time_zone: 'Mars/Olympus' is not UTC, campaign or an IANA timezone name"),
        ({"end_date": "2024-12-01"}, "end_date: 2024-12-01 is before start_date 2025-01-01"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"lookback_window_days": -1}, "lookback_window_days"),
        (
            {"reports": [{"name": "x", "dataset": "nope", "fields": ["campaign_id"]}]},
            "reports[0].dataset: must be one of all-dimensions-and-metrics, brain-feature-summary",
        ),
        (
            {"reports": [{"name": "x", "dataset": "performance", "fields": ["campaign_id", "nope"]}]},
            "reports[x].fields: unknown field(s) nope in dataset performance; valid fields: advertiser_id, advertiser_name,",
        ),
        (
            {"reports": [{"name": "x", "dataset": "performance", "fields": ["campaign_id"], "rollup": "by_hour"}]},
            "reports[x].rollup: 'by_hour' is not offered by dataset performance; valid rollups: all, by_day, by_week, by_month",
        ),
        (
            {
                "reports": [
                    {"name": "x", "dataset": "performance", "fields": ["campaign_id"], "filters": [{"field": "campaign_id", "op": "~"}]}
                ]
            },
            "reports[x].filters[0].op: '~' is not an operator",
        ),
        (
            {"reports": [{"name": "performance", "dataset": "performance", "fields": ["campaign_id"]}]},
            "reports[0].name: 'performance' is already a stream name",
        ),
    ],
)
def test_bad_settings_fail_naming_the_setting(overrides, first_error):
    config = {k: v for k, v in {**BASE_CONFIG, **overrides}.items() if v is not None}
    with pytest.raises(ConfigValidationError) as error:
        TapMediaMath(config=config, validate_config=True, setup_mapper=False)
    messages = [str(error.value), *getattr(error.value, "errors", [])]
    assert any(first_error in m for m in messages), messages


# ---------------------------------------------------------------------- streaming over HTTP


def test_rows_arrive_while_the_emulator_is_still_streaming():
    """The tap's session reads answers unread (stream=True) and parses them line by line: the first
    record is in hand long before the emulator has written the answer's last row."""
    from mediamath_support import LEAN_REPORT, make_emulator, settings

    scale = {"organizations": ((ORG, "Streaming Media"),), "strategies_per_campaign": 500}
    with make_emulator(**scale) as emulator:
        total = emulator.strategy_day_count(ORG, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
        config = settings(emulator, start_date="2025-01-01", end_date="2025-01-31", report_window_days=31, reports=[LEAN_REPORT])
        lean = stream(TapMediaMath(config=config, validate_config=True, setup_mapper=False), "lean")
        assert lean.requests_session.stream is True
        records = iter(lean.get_records({"organization_id": ORG}))
        first = next(records)
        in_flight = emulator.rows_streamed
        assert set(first) == {"organization_id", "strategy_id", "impressions", "total_spend", "agg_timestamp"}
        assert in_flight < total // 2, (in_flight, total)
        assert 1 + sum(1 for _ in records) == total == 110_770


# ---------------------------------------------------------------------- the authenticator


def test_token_is_renewed_before_it_expires_and_the_grant_is_the_password_grant():
    auth = tap().lookups.authenticator
    assert auth.oauth_request_body == {
        "grant_type": "password",
        "username": "u@example.com",
        "password": PASSWORD,
        "client_id": "cid",
        "client_secret": CLIENT_SECRET,
        "audience": "https://api.mediamath.com/",
    }
    auth.access_token, auth.expires_in = "eyJ.x.y", 86400
    now = dt.datetime.now(dt.UTC)
    auth.last_refreshed = now - dt.timedelta(seconds=86400 - 601)
    assert auth.is_token_valid()
    auth.last_refreshed = now - dt.timedelta(seconds=86400 - 599)  # inside the 10-minute margin
    assert not auth.is_token_valid()
    auth.expires_in = 60  # short-lived: a tenth of its life
    auth.last_refreshed = now - dt.timedelta(seconds=55)
    assert not auth.is_token_valid()
    assert auth.renew_after_rejection("Bearer eyJ.x.y") is None  # a 401 forgets the token: the next request asks for a new one
    assert auth.access_token is None and not auth.is_token_valid()


def test_campaign_time_zone_windows_are_padded_and_keep_only_their_days():
    windows = plan_windows(dt.date(2025, 1, 1), dt.date(2025, 1, 11), "by_day", 7, pad_days=1)
    assert [(w.start_time, w.end_time) for w in windows] == [
        ("2024-12-31T00:00:00Z", "2025-01-09T00:00:00Z"),
        ("2025-01-07T00:00:00Z", "2025-01-12T00:00:00Z"),
    ]
    first = windows[0]
    assert first.holds("2025-01-01T00:00:00+13:00") and first.holds("2025-01-07T00:00:00-05:00")
    assert not first.holds("2024-12-31T00:00:00-05:00") and not first.holds("2025-01-08T00:00:00+09:00")
    t = tap(reports=[{"name": "local", "dataset": "performance-hourly", "fields": ["campaign_id", "impressions"], "time_zone": "campaign"}])
    body = stream(t, "local").request_body({"organization_id": ORG}, Page(first))
    assert body["time_zone"] == "campaign"
    assert (body["start_time"], body["end_time"]) == ("2024-12-31T00:00:00Z", "2025-01-09T00:00:00Z")


# ---------------------------------------------------------------------- properties of the window planner

from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from tap_mediamath.windows import next_period_start, period_start


@given(
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
    length=st.integers(0, 800),
    rollup=st.sampled_from(["by_hour", "by_day", "by_week", "by_month"]),
    window_days=st.integers(1, 120),
    zone=st.sampled_from(["UTC", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham"]),
)
def test_any_range_zone_and_window_size_covers_every_day_exactly_once(start, length, rollup, window_days, zone):
    end = start + dt.timedelta(days=length)
    windows = plan_windows(start, end, rollup, window_days, ZoneInfo(zone))
    covered = [w.start + dt.timedelta(days=n) for w in windows for n in range((w.end - w.start).days)]
    assert covered == [start + dt.timedelta(days=n) for n in range(length)]
    period = {"by_hour": "day", "by_day": "day", "by_week": "week", "by_month": "month"}[rollup]
    for window in windows:
        # A window never cuts a period in two (except at the range's own edges) and keeps to its size
        # unless one period alone is longer.
        assert window.start == start or period_start(window.start, period) == window.start
        assert window.end == end or period_start(window.end, period) == window.end
        single_period = next_period_start(window.start, period) >= window.end
        assert single_period or (window.end - window.start).days <= window_days
        instants = [dt.datetime.fromisoformat(text) for text in (window.start_time, window.end_time)]
        assert instants[0] < instants[1]


@given(
    start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
    bookmark_offset=st.integers(-30, 800),
    lookback=st.integers(0, 60),
    rollup=st.sampled_from(["by_day", "by_week", "by_month"]),
)
def test_incremental_start_never_skips_the_bookmark_day(start, bookmark_offset, lookback, rollup):
    bookmark = start + dt.timedelta(days=bookmark_offset)
    first = _first(start, bookmark, lookback, rollup)
    assert start <= first <= max(start, bookmark - dt.timedelta(days=lookback))
