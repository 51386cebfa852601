"""The modules the three taps share are the same file in each (each tap still installs alone, so each carries
its copy), and what they promise holds: the report-day rule, retry waits, value-free settings errors, and the
one SDK-private hook they use."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError
from singer_sdk.plugin_base import PluginBase

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"tap-rokt": "tap_rokt", "tap-adroll": "tap_adroll", "tap-mediamath": "tap_mediamath"}
SHARED_MODULES = (
    "checkpoints.py",
    "cli.py",
    "inflight.py",
    "isolation.py",
    "report_days.py",
    "retries.py",
    "settings.py",
    "tokens.py",
    "writer.py",
)
# The provider modules every tap has, under the same names (the concern of each is the same in the three).
PROVIDER_MODULES = ("__init__.py", "__main__.py", "auth.py", "client.py", "lookups.py", "schemas.py", "streams.py", "tap.py", "windows.py")
# Concerns only one provider has: AdRoll nests entity lists that come in two shapes.
OWN_MODULES = {"tap-adroll": {"entities.py"}}


@pytest.mark.parametrize("module", SHARED_MODULES)
def test_shared_modules_are_identical_in_the_three_taps(module):
    copies = {tap: (ROOT / tap / package / module).read_bytes() for tap, package in PACKAGES.items()}
    assert len(set(copies.values())) == 1, f"{module} differs between {', '.join(copies)}: copy one over the others"


def test_every_tap_has_the_same_file_map():
    for tap, package in PACKAGES.items():
        names = {path.name for path in (ROOT / tap / package).glob("*.py")}
        assert names == set(SHARED_MODULES) | set(PROVIDER_MODULES) | OWN_MODULES.get(tap, set()), tap


# ---------------------------------------------------------------------- report days (tap_rokt's copy)

from tap_rokt.report_days import day_span, end_day, first_day, setting_day


@pytest.mark.parametrize(
    "written", ["2025-01-01", "2025-01-01T00:00:00Z", "2025-01-01T23:59:59-05:00", "2025-01-01T00:00:00+11:00", "2025-01-01 08:00"]
)
def test_a_setting_names_its_calendar_date_whatever_its_time_and_offset(written):
    assert setting_day(written) == dt.date(2025, 1, 1)


@pytest.mark.parametrize("written", ["yesterday", "2025-13-01", "01/02/2025", "", "2025-01-01Tnoon"])
def test_what_is_not_a_date_is_refused(written):
    with pytest.raises(ValueError, match="is not a date"):
        setting_day(written)


def test_without_end_date_the_run_stops_before_today_in_the_report_timezone():
    now = dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.UTC)  # 22:00 on 30 June in New York, noon on 1 July in Sydney
    assert end_day(None, ZoneInfo("America/New_York"), now) == dt.date(2025, 6, 30)
    assert end_day(None, ZoneInfo("Australia/Sydney"), now) == dt.date(2025, 7, 1)
    assert end_day("2025-07-01T00:00:00Z", ZoneInfo("America/New_York"), now) == dt.date(2025, 7, 1)


def test_first_day_rereads_the_lookback_and_never_goes_before_start():
    start = dt.date(2025, 1, 1)
    assert first_day(start, None, 7) == start
    assert first_day(start, "2025-01-01T00:00:00Z", 7) == start  # a first run starts from start_date itself
    assert first_day(start, "2025-03-10T00:00:00Z", 7) == dt.date(2025, 3, 3)
    assert first_day(start, "2025-03-10T00:00:00-05:00", 0) == dt.date(2025, 3, 10)
    assert day_span(dt.date(2025, 1, 1), dt.date(2025, 7, 1)) == "2025-01-01..2025-06-30"
    assert day_span(dt.date(2025, 1, 1), dt.date(2025, 1, 1)) == "none"


# ---------------------------------------------------------------------- retries

from tap_rokt.retries import MAX_WAIT_SECONDS, retry_after_seconds, wait_before_retry


def _response(status: int, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return response


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds(_response(429, {"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(_response(429)) is None
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= retry_after_seconds(_response(429, {"Retry-After": future})) <= 30
    assert retry_after_seconds(_response(429, {"Retry-After": "36000"})) == 36000.0  # uncapped: a spent quota says so


def test_waits_honour_retry_after_capped_grow_with_jitter_and_skip_after_a_401():
    assert wait_before_retry(RetriableAPIError("x", _response(429, {"Retry-After": "3"})), 1) == 3.0
    assert wait_before_retry(RetriableAPIError("x", _response(429, {"Retry-After": "3600"})), 1) == MAX_WAIT_SECONDS
    assert 0.5 <= wait_before_retry(RetriableAPIError("x", _response(503)), 1) <= 1.0
    assert 4.0 <= wait_before_retry(requests.exceptions.ConnectionError("down"), 4) <= 8.0
    assert wait_before_retry(RetriableAPIError("x", _response(401)), 3) == 0.0


# ---------------------------------------------------------------------- settings: the SDK's private hook


@pytest.mark.parametrize("tap", PACKAGES)
def test_a_secret_of_the_wrong_type_is_named_never_shown(tap):
    module = importlib.import_module(f"{PACKAGES[tap]}.tap")
    tap_class = {
        "tap-rokt": getattr(module, "TapRokt", None),
        "tap-adroll": getattr(module, "TapAdRoll", None),
        "tap-mediamath": getattr(module, "TapMediaMath", None),
    }[tap]
    schema = tap_class.config_jsonschema["properties"]
    for name in (name for name, spec in schema.items() if spec.get("secret")):
        with pytest.raises(ConfigValidationError) as raised:
            tap_class(config={name: 987650123}, validate_config=True)
        assert f"{name}: must be of type string" in raised.value.errors
        assert all("987650123" not in error for error in raised.value.errors)


def test_the_sdk_still_validates_settings_through_the_hook_the_taps_override():
    """The taps override PluginBase._validate_config (SDK-private, no public hook): if the SDK renames it or stops
    calling it from __init__, or stops filling in defaults there, this fails before any user meets it."""
    assert "raise_errors" in inspect.signature(PluginBase._validate_config).parameters
    assert "self._validate_config(raise_errors=validate_config)" in inspect.getsource(PluginBase.__init__)
    from tap_adroll.tap import TapAdRoll

    tap = TapAdRoll(config={"api_key": "k", "personal_access_token": "p", "start_date": "2025-01-01"})
    assert tap.config["api_url"] == "https://services.adroll.com"  # defaults filled in by the SDK's check
    assert tap.config["lookback_window_days"] == 3 and tap.config["request_timeout"] == 300


def test_the_sdk_and_backoff_still_write_the_lines_the_taps_drop():
    """cli.RepeatedLinesFilter drops three log lines by their templates; if a dependency rewords one, it shows."""
    import backoff._common
    from singer_sdk.streams import core
    from tap_rokt.cli import REPEATED_LINES

    sources = inspect.getsource(backoff._common) + inspect.getsource(core.Stream.sync)
    for template in REPEATED_LINES:
        assert template.replace("%s(...)", "%s(...)") in sources, template
