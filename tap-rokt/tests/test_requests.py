"""Unit tests: request bodies, response checks, error messages, retry waits, schemas from help."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from rokt_support import ACCOUNT_IDS
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from tap_rokt import schemas
from tap_rokt.streams import PartitionQuery, ReportDefinition, ReportStream
from tap_rokt.tap import TapRokt
from tap_rokt.windows import ReportRequest, Window

USD_ACCOUNT = ACCOUNT_IDS[0]


def _response(status: int, body: object = None, headers: dict | None = None, request_body: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests", 503: "Service Unavailable"}[status]
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers.update(headers or {})
    response.url = f"https://api.rokt.com/v1/query/accounts/{USD_ACCOUNT}/campaigns/"
    response.request = requests.Request("POST", response.url, json=request_body).prepare()
    return response


@pytest.fixture
def tap(config) -> TapRokt:
    return TapRokt(config=config)


@pytest.fixture
def campaign_stream(tap) -> ReportStream:
    return tap.streams["campaign_report"]


def test_request_body_for_a_window(tap, campaign_stream):
    plan = campaign_stream._plan(tap.lookups.account(USD_ACCOUNT))
    assert isinstance(plan.query, PartitionQuery)
    window = Window(((dt.date(2025, 3, 1), dt.date(2025, 3, 2)), (dt.date(2025, 3, 2), dt.date(2025, 3, 3))))
    body = campaign_stream.prepare_request_payload({"account_id": USD_ACCOUNT}, ReportRequest(plan.query, window))
    assert body == {
        "timezoneVariation": "America/New_York",
        "currencyCode": "USD",
        "interval": "day",
        "startDate": "2025-03-01",
        "endDate": "2025-03-03",
        "metrics": ["impressions", "referrals", "clickthru_acquisitions", "viewthru_acquisitions", "gross_cost", "cpa"],
        "limit": 10000,
        "dimensions": ["campaign_id"],
    }


def test_custom_report_body_carries_filters_and_interval(config):
    report = {
        "name": "weekly",
        "report": "transactions",
        "dimensions": ["device"],
        "metrics": ["transactions"],
        "dimension_filters": {"page_type": ["confirmation"]},
        "interval": "week",
    }
    tap = TapRokt(config={**config, "reports": [report], "currency_code": "EUR"})
    stream = tap.streams["weekly"]
    plan = stream._plan(tap.lookups.account(USD_ACCOUNT))
    body = stream.prepare_request_payload({}, ReportRequest(plan.query, Window(((dt.date(2025, 3, 3), dt.date(2025, 3, 10)),))))
    assert body["interval"] == "week"
    assert body["dimensionFilters"] == {"page_type": ["confirmation"]}
    assert body["metrics"] == ["transactions"] and body["dimensions"] == ["device"]
    assert body["currencyCode"] == "EUR"
    assert stream.path == "/v1/query/accounts/{account_id}/transactions"
    assert stream.primary_keys == ["account_id", "datetime", "device"]


def test_validate_response_classifies_statuses(campaign_stream):
    with pytest.raises(RetriableAPIError):
        campaign_stream.validate_response(_response(429, {"message": "slow down"}))
    with pytest.raises(RetriableAPIError):
        campaign_stream.validate_response(_response(503, {"message": "busy"}))
    with pytest.raises(FatalAPIError, match="400 Bad Request: Unknown metric slug"):
        campaign_stream.validate_response(_response(400, {"message": "Unknown metric slug(s): clicks"}))
    # A 401 renews the token once; a second 401 in a row is fatal.
    with pytest.raises(RetriableAPIError):
        campaign_stream.validate_response(_response(401, {"message": "Invalid token"}))
    with pytest.raises(FatalAPIError, match="rejected again after renewing the token"):
        campaign_stream.validate_response(_response(401, {"message": "Invalid token"}))


def test_error_message_names_request_and_window_but_no_header(campaign_stream):
    response = _response(400, {"message": "bad dates"}, request_body={"startDate": "2025-03-01", "endDate": "2025-03-08"})
    response.request.headers["Authorization"] = "Bearer secret-token-value"
    message = campaign_stream.response_error_message(response)
    assert message == (
        f"Rokt API POST /v1/query/accounts/{USD_ACCOUNT}/campaigns/ for window 2025-03-01..2025-03-08 "
        "(end exclusive) failed: 400 Bad Request: bad dates"
    )


def test_wait_generator_prefers_retry_after(campaign_stream):
    waits = campaign_stream.backoff_wait_generator()
    next(waits)
    assert 0.5 <= waits.send(RetriableAPIError("x", _response(503))) <= 1.0  # try 1: up to 1 s
    assert waits.send(RetriableAPIError("x", _response(429, headers={"Retry-After": "3"}))) == 3.0
    assert 2.0 <= waits.send(RetriableAPIError("x", _response(503))) <= 4.0  # try 3: up to 4 s
    assert waits.send(RetriableAPIError("x", _response(401))) == 0.0


def test_window_splits_in_halves():
    days = [(dt.date(2025, 3, d), dt.date(2025, 3, d + 1)) for d in range(1, 5)]
    halves = Window(tuple(days)).split()
    assert halves == (Window(tuple(days[:2])), Window(tuple(days[2:])))
    assert Window(tuple(days[:1])).split() is None


def test_report_schema_types_from_help():
    assert schemas.field_type({"slug": "x"}, "metric") == "number"
    assert schemas.field_type({"slug": "x"}, "dimension") == "string"
    assert schemas.field_type({"slug": "x", "type": "INT"}, "metric") == "integer"
    schema = schemas.report_schema({"campaign_id": "string"}, {"impressions": "number", "orders": "integer"})
    properties = schema["properties"]
    assert properties["datetime"] == {
        "format": "date-time",
        "type": ["string"],
        "description": "Start of the report period (report timezone)",
    }
    assert properties["impressions"]["type"] == ["number", "null"]
    assert properties["orders"]["type"] == ["integer", "null"]
    assert set(schema["required"]) == {"account_id", "datetime", "timezone", "currency_code"}


def test_schema_is_the_union_of_the_accounts_metrics(tap):
    properties = tap.streams["campaign_report"].schema["properties"]
    assert "viewthru_acquisitions" in properties  # offered by one account only
    assert {"gross_cost", "cpa", "impressions", "campaign_id"} <= set(properties)


def test_config_errors_list_every_problem(config):
    with pytest.raises(ConfigValidationError) as raised:
        TapRokt(
            config={**config, "end_date": "2025-01-01", "timezone": "Nowhere", "reports": [{"name": "bad name", "report": "campaigns"}]}
        )
    assert raised.value.errors == [
        "end_date: 2025-01-01 is before start_date 2025-03-01",
        "timezone: 'Nowhere' is not an IANA timezone name (e.g. America/New_York)",
        "reports[0].name: 'bad name' must be letters, digits and underscores",
    ]


def test_about_needs_no_network():
    about = TapRokt.config_jsonschema["properties"]
    assert about["app_secret"]["secret"] is True
    assert about["lookback_window_days"]["default"] == 7
    assert ReportDefinition.from_setting({"name": "n", "report": "campaigns"}).interval == "day"
