"""The MediaMath emulator answers as the documentation says: token endpoint, validation errors, filters,
rollups, both response types."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from mediamath_support import CLIENT_ID, CLIENT_SECRET, ORG, PASSWORD, USERNAME

from emulators.mediamath import matches

ROW = {"campaign_id": 4000001, "campaign_name": "Spring Sale EU", "impressions": 1200, "deal_id": None}
value_of = ROW.__getitem__


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"field": "campaign_id", "value": 4000001}, True),
        ({"field": "campaign_id", "op": "=", "value": [1, 4000001]}, True),  # arrays: IN
        ({"field": "campaign_id", "op": "=", "value": [1, 2]}, False),
        ({"field": "campaign_id", "op": "=", "value": "4000001"}, True),  # ids sent as strings
        ({"field": "campaign_id", "op": "!=", "value": 4000001}, False),
        ({"field": "campaign_id", "op": "!=", "value": [1, 2]}, True),
        ({"field": "impressions", "op": ">", "value": 1200}, False),
        ({"field": "impressions", "op": ">=", "value": 1200}, True),
        ({"field": "impressions", "op": "<", "value": 1201}, True),
        ({"field": "impressions", "op": "<=", "value": 1199}, False),
        ({"field": "campaign_name", "op": "=~", "value": "sale eu"}, True),
        ({"field": "campaign_name", "op": "=~", "value": "US"}, False),
        ({"field": "deal_id", "op": "isNull"}, True),
        ({"field": "deal_id", "op": "isNotNull"}, False),
        (
            {
                "field": "x",
                "op": "and",
                "filters": [{"field": "impressions", "op": ">", "value": 1000}, {"field": "campaign_name", "op": "=~", "value": "spring"}],
            },
            True,
        ),
        (
            {
                "field": "x",
                "op": "and",
                "filters": [{"field": "impressions", "op": ">", "value": 1000}, {"field": "campaign_name", "op": "=~", "value": "autumn"}],
            },
            False,
        ),
        (
            {
                "field": "x",
                "op": "or",
                "filters": [
                    {"field": "impressions", "op": ">", "value": 5000},
                    {
                        "field": "x",
                        "op": "and",
                        "filters": [{"field": "campaign_id", "value": [4000001]}, {"field": "deal_id", "op": "isNull"}],
                    },
                ],
            },
            True,
        ),
    ],
)
def test_filter_operators(flt, expected):
    assert matches(flt, value_of) is expected


def _token(url: str, **overrides) -> requests.Response:
    grant = {
        "grant_type": "password",
        "username": USERNAME,
        "password": PASSWORD,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "audience": "https://api.mediamath.com/",
        **overrides,
    }
    return requests.post(f"{url}/oauth/token", json=grant, timeout=10)


def _query(emulator, body: dict, dataset: str = "performance") -> requests.Response:
    token = _token(emulator.url).json()["access_token"]
    return requests.post(f"{emulator.url}/reporting/v2/{dataset}", json=body, timeout=30, headers={"Authorization": f"Bearer {token}"})


BODY = {
    "fields": ["campaign_id", "impressions", "total_spend"],
    "filters": [{"field": "organization_id", "value": ORG}],
    "rollup": "by_month",
    "start_time": "2025-01-01T00:00:00Z",
    "end_time": "2025-03-01T00:00:00Z",
}


def test_token_endpoint_password_grant(emulator):
    answer = _token(emulator.url)
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 86400
    assert token["access_token"].count(".") == 2 and token["access_token"].startswith("eyJ")
    assert _token(emulator.url, password="nope").status_code == 403
    assert _token(emulator.url, client_secret="nope").status_code == 401
    assert _token(emulator.url, audience="https://other/").json()["error_description"] == "Service not found: https://other/"


def test_reports_need_a_valid_token(emulator):
    answer = requests.post(f"{emulator.url}/reporting/v2/performance", json=BODY, timeout=10)
    assert answer.status_code == 401 and answer.json()["error_code"] == "Unauthorized"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": ["campaign_id_test"]}, "field does not exist in this dataset: campaign_id_test"),
        ({"rollup": "by_hour"}, "rollup by_hour is not supported in this dataset (use all, by_day, by_week, by_month)"),
        ({"time_zone": "UTC"}, "time_zone is not supported in this dataset"),
        ({"filters": [{"field": "campaign_id", "op": "~", "value": 1}]}, "invalid filter operator: ~"),
        ({"start_time": "2025-01-01"}, "start_time is not a valid RFC3339 date-time (no offset): 2025-01-01"),
        ({"pagination": {"page_size": 10001, "page_index": 0}}, "pagination.page_size must be an integer between 1 and 10000"),
    ],
)
def test_bad_requests_answer_the_documented_error_shape(emulator, change, message):
    answer = _query(emulator, {**BODY, **change})
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"error_code", "request_id", "message"}
    assert body["error_code"] == "BadRequest" and len(body["request_id"]) == 32
    assert body["message"] == message


def test_streamed_and_paginated_answers_agree_with_the_facts(emulator):
    streamed = _query(emulator, BODY)
    assert streamed.headers["Content-Type"] == "application/jsonl"
    lines = [json.loads(line) for line in streamed.text.splitlines()]
    assert lines[0] == {
        "fields": [{"name": "agg_timestamp"}, {"name": "campaign_id"}, {"name": "impressions"}, {"name": "total_spend"}],
        "total_items_count": 16,
    }
    assert {"meta": {}} in lines
    rows = [line for line in lines[1:] if "meta" not in line]
    assert len(rows) == 16  # 8 campaigns x 2 months
    assert {r["agg_timestamp"] for r in rows} == {"2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"}
    spend = sum(f["spend"] for f in emulator.facts(ORG, dt.date(2025, 1, 1), dt.date(2025, 3, 1)))
    assert round(sum(r["total_spend"] for r in rows) * 100) == spend

    page = _query(emulator, {**BODY, "pagination": {"page_size": 5, "page_index": 3}}).json()
    assert page["meta"] == {"page_index": 3, "total_pages": 4, "items_count": 1, "total_items_count": 16, "status": "OK"}
    assert page["results"] == rows[15:]

    everything = _query(emulator, {**BODY, "rollup": "all"}).text.splitlines()
    assert json.loads(everything[0])["fields"][0] == {"name": "campaign_id"}  # no agg_timestamp with rollup=all


def test_deals_require_their_filters(emulator):
    answer = _query(emulator, {**BODY, "fields": ["deal_id", "wins"], "rollup": "by_day"}, dataset="deals")
    assert answer.json()["message"] == "this dataset requires the filter deal_id with at least 1 value"
