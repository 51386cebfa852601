"""Unit tests: settings validation, request building, response checks and one-line error messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests
from adroll_support import CLIENT_ID, PAT
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from tap_adroll.auth import AdRollOAuthAuthenticator
from tap_adroll.client import QuotaExhaustedError
from tap_adroll.tap import TapAdRoll
from tap_adroll.windows import Window

BASE = {"api_key": CLIENT_ID, "personal_access_token": PAT, "start_date": "2025-03-01", "api_url": "http://127.0.0.1:9"}


def tap(**overrides) -> TapAdRoll:
    return TapAdRoll(config={**BASE, **overrides}, validate_config=True)


# ---------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"api_key": None}, "api_key"),
        ({"start_date": None}, "start_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2025-02-01"}, "end_date"),  # before start_date
        ({"lookback_window_days": -1}, "lookback_window_days"),
        ({"lookback_window_days": "three"}, "lookback_window_days"),
        ({"personal_access_token": None}, "personal_access_token"),  # no auth method at all
        ({"personal_access_token": None, "refresh_token": "r"}, "client_secret"),
        ({"currency": "usd"}, "currency"),
        ({"advertisable_eids": "ABC"}, "advertisable_eids"),
        ({"api_url": "services.adroll.com"}, "api_url"),
    ],
)
def test_bad_settings_fail_naming_the_setting(overrides, setting):
    config = {key: value for key, value in {**BASE, **overrides}.items() if value is not None}
    with pytest.raises(ConfigValidationError) as raised:
        TapAdRoll(config=config, validate_config=True)
    assert raised.value.errors[0].startswith(f"{setting}:")
    assert all("\n" not in error for error in raised.value.errors)


def test_a_secret_of_the_wrong_type_is_not_quoted():
    with pytest.raises(ConfigValidationError) as raised:
        TapAdRoll(config={**BASE, "personal_access_token": 98765432123}, validate_config=True)
    assert raised.value.errors == ["personal_access_token: must be of type string"]


def test_oauth_settings_are_an_auth_method():
    tap(personal_access_token=None, access_token="a")  # an access token alone is enough to start
    tap(personal_access_token=None, refresh_token="r", client_secret="s")


def test_secrets_are_marked_secret():
    properties = TapAdRoll.config_jsonschema["properties"]
    secret = {name for name, spec in properties.items() if spec.get("secret")}
    assert secret == {"personal_access_token", "access_token", "refresh_token", "client_secret"}
    assert properties["lookback_window_days"]["default"] == 3
    assert properties["currency"]["default"] == "USD"
    assert properties["api_url"]["default"] == "https://services.adroll.com"


# ---------------------------------------------------------------------- request building


def test_report_request_asks_for_one_day_for_all_advertisables():
    stream = tap(currency="GBP").streams["ad_report"]
    assert stream.get_url_params(None, Window(dt.date(2025, 3, 9), ("AAA", "BBB", "CCC"))) == {
        "data_format": "entity",
        "start_date": "03-09-2025",
        "end_date": "03-09-2025",
        "currency": "GBP",
        "advertisables": "AAA,BBB,CCC",
    }
    assert stream.get_url(None) == "http://127.0.0.1:9/api/v1/report/ad"
    assert stream.timeout == 300 and tap(request_timeout=7).streams["ad_report"].timeout == 7


def test_entity_requests_cover_inactive_entities():
    streams = tap().streams
    assert list(streams["campaigns"].variants) == [{"is_active": "true"}, {"is_active": "false"}]
    assert list(streams["ads"].variants) == [{"is_active": "true"}, {"is_active": "false"}]
    assert list(streams["ad_groups"].variants) == [{"camp_active": "true"}, {"camp_active": "false"}]
    params = streams["campaigns"].get_url_params({"advertisable_eid": "ADV", "_variant": {"is_active": "false"}}, None)
    assert params == {"advertisable": "ADV", "is_active": "false"}


def test_pat_requests_carry_token_header_and_apikey():
    t = tap()
    request = requests.Request("GET", "http://127.0.0.1:9/api/v1/organization/get").prepare()
    signed = t.lookups.authenticator(request)
    assert signed.headers["Authorization"] == f"Token {PAT}"
    assert signed.url.endswith(f"?apikey={CLIENT_ID}")


# ---------------------------------------------------------------------- responses and errors


def _response(status: int, body: bytes, url: str, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error"}[status]
    response._content = body
    response.headers.update(headers or {})
    response.request = requests.Request("GET", url, headers={"Authorization": f"Token {PAT}"}).prepare()
    response.url = response.request.url
    return response


REPORT_URL = f"http://127.0.0.1:9/api/v1/report/ad?data_format=entity&start_date=03-09-2025&end_date=03-09-2025&apikey={CLIENT_ID}"


def test_4xx_fails_in_one_line_with_the_api_message_and_the_request():
    stream = tap().streams["ad_report"]
    response = _response(400, b'{"errors": ["Unsupported currency \'XYZ\'"]}', REPORT_URL)
    with pytest.raises(FatalAPIError) as raised:
        stream.validate_response(response)
    message = str(raised.value)
    assert message == ("AdRoll API GET /api/v1/report/ad for day 03-09-2025 failed: 400 Bad Request: Unsupported currency 'XYZ'")
    assert CLIENT_ID not in message and PAT not in message


def test_401_with_a_pat_is_fatal_and_names_the_settings():
    stream = tap().streams["organization"]
    response = _response(401, b'{"errors": ["Invalid personal access token or apikey"]}', "http://127.0.0.1:9/api/v1/organization/get")
    with pytest.raises(
        FatalAPIError, match=r"401 Unauthorized: Invalid personal access token or apikey \(check personal_access_token and api_key\)"
    ):
        stream.validate_response(response)


def test_retriable_answers():
    stream = tap().streams["ad_report"]
    for response in (
        _response(500, b'{"errors": ["boom"]}', REPORT_URL),
        _response(429, b'{"errors": ["slow down"]}', REPORT_URL, {"Retry-After": "1"}),
    ):
        with pytest.raises(RetriableAPIError):
            stream.validate_response(response)


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"data": [', b""])
def test_a_broken_200_answer_fails_rather_than_passing_for_an_empty_day(body):
    stream = tap().streams["ad_report"]
    with pytest.raises(FatalAPIError, match=r"^AdRoll API GET /api/v1/report/ad for day 03-09-2025 failed: the answer is not JSON"):
        stream.answer(_response(200, body, REPORT_URL))
    with pytest.raises(FatalAPIError, match="the answer has no 'results'"):
        stream.answer(_response(200, b'{"data": []}', REPORT_URL))


def test_report_rows_are_checked_before_any_is_emitted():
    stream = tap().streams["advertisable_report"]
    window = Window(dt.date(2025, 3, 9), ("A1",))
    wrong_type = b'{"results": [{"eid": "A1", "cost": "n/a", "impressions": 1}]}'
    with pytest.raises(FatalAPIError, match=r"for day 03-09-2025 failed: row A1: metric 'cost' is not a number: 'n/a'"):
        list(stream._day_rows(window, _response(200, wrong_type, REPORT_URL)))
    stranger = b'{"results": [{"eid": "A1", "cost": 1.5}, {"eid": "A9", "cost": 2.5}]}'
    with pytest.raises(FatalAPIError, match=r"row A9 is outside the window: not among the advertisables asked for"):
        list(stream._day_rows(window, _response(200, stranger, REPORT_URL)))


def test_a_429_asking_to_wait_hours_fails_at_once_saying_the_quota_is_spent():
    stream = tap().streams["ad_report"]
    response = _response(429, b'{"errors": ["Request quota exceeded: 100 requests per day"]}', REPORT_URL, {"Retry-After": "36000"})
    with pytest.raises(QuotaExhaustedError, match=r"^AdRoll request quota exhausted \(the API asks to wait 36000 s\)"):
        stream.validate_response(response)


def test_backoff_honours_retry_after_and_otherwise_grows():
    stream = tap().streams["ad_report"]
    waits = stream.backoff_wait_generator()
    next(waits)
    with_header = RetriableAPIError("x", _response(429, b"{}", REPORT_URL, {"Retry-After": "2"}))
    without = RetriableAPIError("x", _response(500, b"{}", REPORT_URL))
    assert waits.send(with_header) == 2.0
    second, third = waits.send(without), waits.send(without)
    assert 1.0 <= second <= 2.0 and 2.0 <= third <= 4.0
    assert stream.backoff_jitter(2.0) == 2.0


def test_oauth_token_is_renewed_before_it_expires():
    auth = AdRollOAuthAuthenticator(
        api_key=CLIENT_ID, token_endpoint="http://127.0.0.1:9/auth/token", access_token="a", refresh_token="r", client_secret="s"
    )
    assert auth.is_token_valid()  # a token from the settings is used until the API rejects it
    auth.last_refreshed, auth.expires_in = dt.datetime.now(dt.UTC) - dt.timedelta(hours=23, minutes=56), 86400
    assert not auth.is_token_valid()  # renewed 5 minutes before its 24 hours are up
    assert auth.renew_after_rejection("Bearer a") is None  # a 401: renew once ...
    assert auth.access_token is None
    assert auth.renew_after_rejection(None) == "rejected again after renewing the token"  # ... and only once


def test_report_rows_are_stamped_with_their_day_and_currency():
    stream = tap(currency="EUR", organization_eid="ORG").streams["campaign_report"]
    body = b'{"results": [{"eid": "C1", "cost": 12.30, "impressions": 1000, "clicks": 7, "cpc": 1.76}]}'
    (row,) = stream._day_rows(Window(dt.date(2025, 3, 9), ("A1",)), _response(200, body, REPORT_URL))
    assert row == {
        "eid": "C1",
        "cost": Decimal("12.30"),
        "impressions": 1000,
        "clicks": 7,
        "cpc": Decimal("1.76"),
        "date": "2025-03-09T00:00:00+00:00",
        "currency": "EUR",
        "organization_eid": "ORG",
    }
    assert str(row["cost"]) == "12.30"  # parsed exactly, not as a float


def test_organization_is_read_from_the_results_object():
    stream = tap().streams["organization"]
    body = b'{"results": {"eid": "ORG", "name": "Org", "created_date": "2019-02-08T00:00:00Z"}}'
    assert list(stream.parse_response(_response(200, body, "http://127.0.0.1:9/api/v1/organization/get"))) == [
        {"eid": "ORG", "name": "Org", "created_date": "2019-02-08T00:00:00Z"}
    ]


def test_a_rejected_oauth_token_without_refresh_settings_is_fatal():
    stream = tap(personal_access_token=None, access_token="a").streams["organization"]
    response = _response(401, b'{"errors": ["Access token expired"]}', "http://127.0.0.1:9/api/v1/organization/get")
    with pytest.raises(FatalAPIError, match=r"Access token expired \(the access token was rejected and cannot be renewed"):
        stream.validate_response(response)


def test_a_wrong_client_secret_is_named(emulator):
    auth = AdRollOAuthAuthenticator(
        api_key=CLIENT_ID,
        token_endpoint=f"{emulator.url}/auth/token",
        access_token=None,
        refresh_token="whatever",
        client_secret="not-the-secret",
    )
    with pytest.raises(FatalAPIError) as raised:
        auth.update_access_token()
    assert str(raised.value) == (
        f"AdRoll OAuth token endpoint POST {emulator.url}/auth/token refused the credentials (401 invalid_client: "
        f"Client authentication failed); {AdRollOAuthAuthenticator.credentials_hint}"
    )
