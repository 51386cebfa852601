"""Each installed tap run the way users run it: only the required settings, date-time settings for accounts west
and east of UTC, secrets of the wrong type, rejected credentials, an API that cannot be reached, and a second run
after a partition came back empty. What users write is not what the emulators' authors write."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socketserver
import subprocess
import threading
import typing as t

import pytest

from emulators.adroll import AdRollEmulator
from emulators.mediamath import MediaMathEmulator
from emulators.rokt import RoktEmulator
from emulators.testing import check_records, run_tap, select, singer_messages, tap_executable

if t.TYPE_CHECKING:
    from pathlib import Path

NEW_YORK, SYDNEY, LONDON = "3286272607917027328", "3286272607917027329", "3286272607917027330"
WEST_AND_EAST = {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-02-01T00:00:00Z"}
JANUARY = [f"2025-01-{day:02d}" for day in range(1, 32)]
SECRET_NUMBER = 987650123

# Only the required settings, as a user writes them first (secrets that cannot be anyone's real ones).
REQUIRED = {
    "tap-rokt": {"app_id": "app-id-1", "app_secret": "app-secret-Qw3rty", "start_date": "2025-01-01T00:00:00Z"},
    "tap-adroll": {"api_key": "client-id-1", "personal_access_token": "pat-Zx9Vb7", "start_date": "2025-01-01T00:00:00Z"},
    "tap-mediamath": {
        "client_id": "client-id-1",
        "client_secret": "client-secret-Lk4Jh2",
        "username": "u@example.com",
        "password": "password-Mn8Bv6",
        "organization_id": 100001,
        "start_date": "2025-01-01T00:00:00Z",
    },
}
# The documented production host each tap asks first with those settings (the token endpoint, or the API itself).
PRODUCTION_HOSTS = {"tap-rokt": "api.rokt.com:443", "tap-adroll": "services.adroll.com:443", "tap-mediamath": "auth.mediamath.com:443"}
SECRETS = {
    "tap-rokt": ["app_secret"],
    "tap-adroll": ["personal_access_token", "access_token", "refresh_token", "client_secret"],
    "tap-mediamath": ["client_secret", "password"],
}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r"\| (ERROR|CRITICAL) ", line)]


def assert_one_clean_line(stderr: str, *fragments: str) -> str:
    """Exactly one error line, holding every fragment, and no traceback."""
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = error_lines(stderr)
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


def start(tap: str, config: dict, folder: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    """The tap as a process, with its config in a file: several can run at once."""
    path = folder / f"{tap}-{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(config))
    return subprocess.Popen(
        [tap_executable(tap), "--config", str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    """Wait for a process of :func:`start`; every RECORD it wrote must match its stream's SCHEMA."""
    stdout, stderr = process.communicate(timeout=300)
    check_records(os.path.basename(process.args[0]), singer_messages(stdout))
    return process.returncode, stdout, stderr


# ---------------------------------------------------------------------- only the required settings


class RefusingProxy(socketserver.ThreadingTCPServer):
    """An HTTPS proxy on loopback that records each CONNECT it is asked for and refuses it (403)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.connects: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline().decode("latin-1").split()
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass
                if len(line) >= 2 and line[0] == "CONNECT":
                    proxy.connects.append(line[1])
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def proxy() -> t.Iterator[RefusingProxy]:
    server = RefusingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_only_the_required_settings_aim_at_the_production_hosts_and_fail_in_one_line(proxy, tmp_path):
    """Every default works when left out: with nothing but the required settings each tap asks its documented
    production host (through HTTPS_PROXY, as every request and token request must), retries, and fails non-zero
    in one line, naming where and why, with no secret."""
    env = {"HTTPS_PROXY": proxy.url, "https_proxy": proxy.url, "NO_PROXY": "", "no_proxy": ""}
    running = {tap: start(tap, config, tmp_path, env=env) for tap, config in REQUIRED.items()}
    for tap, process in running.items():
        returncode, stdout, stderr = finish(process)
        assert returncode == 1, stderr[-3000:]
        host = PRODUCTION_HOSTS[tap].removesuffix(":443")
        line = assert_one_clean_line(stderr, f"https://{host}/", "the proxy refused the connection", "gave up after 6 tries")
        for secret in (value for name, value in REQUIRED[tap].items() if name in SECRETS[tap]):
            assert secret not in stdout + stderr
        print(f"{tap}: {line.split('| ', 3)[-1]}")
    # One CONNECT per try, to the production host of each tap and to nothing else.
    assert sorted(set(proxy.connects)) == sorted(PRODUCTION_HOSTS.values())
    for host in PRODUCTION_HOSTS.values():
        assert proxy.connects.count(host) == 6


# ---------------------------------------------------------------------- report days west and east of UTC


def _days(records: list[dict], field: str, key: str | None = None, value: t.Any = None) -> list[str]:
    return sorted({r[field][:10] for r in records if key is None or r[key] == value})


def test_rokt_date_time_settings_name_the_same_report_days_in_new_york_and_sydney():
    with RoktEmulator() as emulator:
        config = {
            "app_id": emulator.app_id,
            "app_secret": emulator.app_secret,
            "api_url": emulator.url,
            **WEST_AND_EAST,
            "account_ids": [NEW_YORK, SYDNEY],
        }
        first = run_tap("tap-rokt", config)
        assert first.returncode == 0, first.stderr[-3000:]
        for account in (NEW_YORK, SYDNEY):
            for stream in ("campaign_report", "transaction_report"):
                assert _days(first.records(stream), "datetime", "account_id", account) == JANUARY, (stream, account)
        assert "account 3286272607917027328, report days 2025-01-01..2025-01-31 (America/New_York)" in first.stderr
        assert "account 3286272607917027329, report days 2025-01-01..2025-01-31 (Australia/Sydney)" in first.stderr

        # Four days later: from the bookmark (31 January) minus the lookback (7 days), in both accounts.
        later = run_tap("tap-rokt", {**config, "end_date": "2025-02-05T00:00:00Z"}, state=first.state)
        assert later.returncode == 0, later.stderr[-3000:]
        expected = [f"2025-01-{day}" for day in range(24, 32)] + [f"2025-02-0{day}" for day in range(1, 5)]
        for account in (NEW_YORK, SYDNEY):
            assert _days(later.records("campaign_report"), "datetime", "account_id", account) == expected


def test_adroll_date_time_settings_name_their_calendar_dates():
    with AdRollEmulator() as emulator:
        config = {
            "api_key": emulator.client_id,
            "personal_access_token": emulator.personal_access_token,
            "api_url": emulator.url,
            "start_date": "2025-01-01T00:00:00-05:00",
            "end_date": "2025-01-08T23:00:00+10:00",
        }
        run = run_tap("tap-adroll", config, catalog=select(_catalog("tap-adroll", config), ["advertisable_report"]))
        assert run.returncode == 0, run.stderr[-3000:]
        asked = [call.query["start_date"][0] for call in emulator.calls(r"/report/advertisable$")]
        assert sorted(asked) == [f"01-0{day}-2025" for day in range(1, 8)]  # each day once (in flight: in any order)
        assert _days(run.records(), "date") == [f"2025-01-0{day}" for day in range(1, 8)]


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Sydney", None])
def test_mediamath_date_time_settings_name_the_same_report_days_in_any_time_zone(zone):
    """``time_zone`` applies where the dataset takes one (performance-hourly); the performance dataset is UTC."""
    hourly = {"name": "hourly", "dataset": "performance-hourly", "fields": ["campaign_id", "impressions"], "rollup": "by_day"}
    with MediaMathEmulator() as emulator:
        config = {
            **emulator.credentials,
            "organization_id": 100001,
            "api_url": f"{emulator.url}/reporting/v2",
            "auth_url": f"{emulator.url}/oauth/token",
            **WEST_AND_EAST,
            "reports": [hourly],
            **({"time_zone": zone} if zone else {}),
        }
        first = run_tap("tap-mediamath", config)
        assert first.returncode == 0, first.stderr[-3000:]
        for stream in ("performance", "hourly"):
            assert _days(first.records(stream), "agg_timestamp") == JANUARY, stream
        assert f"hourly: organization 100001, report days 2025-01-01..2025-01-31 ({zone or 'UTC'})" in first.stderr
        later = run_tap("tap-mediamath", {**config, "end_date": "2025-02-03T00:00:00Z"}, state=first.state)
        assert later.returncode == 0, later.stderr[-3000:]
        for stream in ("performance", "hourly"):  # from the bookmark (31 January) minus the lookback (3 days)
            expected = [*[f"2025-01-{d}" for d in range(28, 32)], "2025-02-01", "2025-02-02"]
            assert _days(later.records(stream), "agg_timestamp") == expected, stream


def _catalog(tap: str, config: dict) -> dict:
    from emulators.testing import discover

    return discover(tap, config)


# ---------------------------------------------------------------------- secrets of the wrong type


@pytest.mark.parametrize("loglevel", ["INFO", "DEBUG"])
def test_a_secret_of_the_wrong_type_is_named_and_never_shown(loglevel, tmp_path):
    running = []
    for tap, secrets in SECRETS.items():
        for secret in secrets:
            config = {**REQUIRED[tap], secret: SECRET_NUMBER}
            running += [
                (tap, secret, mode, start(tap, config, tmp_path, *mode, env={"LOGLEVEL": loglevel})) for mode in ((), ("--discover",))
            ]
    for tap, secret, mode, process in running:
        returncode, stdout, stderr = finish(process)
        # tap-adroll's catalog is static: its discovery warns about the settings but needs none of them.
        assert returncode == (0 if tap == "tap-adroll" and mode else 1), (tap, secret, stderr[-2000:])
        assert str(SECRET_NUMBER) not in stdout + stderr, (tap, secret)
        assert f"{secret}: must be of type string" in stderr, (tap, secret, stderr[-2000:])
        assert "Traceback" not in stderr


# ---------------------------------------------------------------------- rejected credentials, unreachable API


def test_rejected_credentials_and_an_unreachable_api_fail_in_one_line_in_discovery_and_sync(tmp_path):
    with contextlib.ExitStack() as stack:
        rokt = stack.enter_context(RoktEmulator())
        adroll = stack.enter_context(AdRollEmulator())
        mediamath = stack.enter_context(MediaMathEmulator())
        unreachable = "http://127.0.0.1:9"  # the discard port: nothing listens there
        cases = {
            ("tap-rokt", "rejected"): ({**REQUIRED["tap-rokt"], "api_url": rokt.url}, "refused the credentials"),
            ("tap-rokt", "unreachable"): ({**REQUIRED["tap-rokt"], "api_url": unreachable}, "the host cannot be reached"),
            ("tap-adroll", "rejected"): (
                {**REQUIRED["tap-adroll"], "api_url": adroll.url, "api_key": adroll.client_id},
                "check personal_access_token and api_key",
            ),
            ("tap-adroll", "unreachable"): ({**REQUIRED["tap-adroll"], "api_url": unreachable}, "the host cannot be reached"),
            ("tap-mediamath", "rejected"): (
                {**REQUIRED["tap-mediamath"], "api_url": f"{mediamath.url}/reporting/v2", "auth_url": f"{mediamath.url}/oauth/token"},
                "refused the credentials",
            ),
            ("tap-mediamath", "unreachable"): (
                {**REQUIRED["tap-mediamath"], "api_url": f"{unreachable}/reporting/v2", "auth_url": f"{unreachable}/oauth/token"},
                "the host cannot be reached",
            ),
        }
        running = []
        for (tap, case), (config, fragment) in cases.items():
            # Only tap-rokt asks the API during discovery (report schemas come from each account's help listing);
            # the other two build their catalogs without a request, so only their syncs can fail.
            modes = ((), ("--discover",)) if tap == "tap-rokt" else ((),)
            running += [(tap, case, mode, fragment, start(tap, config, tmp_path, *mode)) for mode in modes]
        for tap, case, mode, fragment, process in running:
            returncode, stdout, stderr = finish(process)
            assert returncode == 1, (tap, case, mode, stderr[-2000:])
            assert_one_clean_line(stderr, fragment)
            for secret in (value for name, value in REQUIRED[tap].items() if name in SECRETS[tap]):
                assert secret not in stdout + stderr


# ---------------------------------------------------------------------- a partition that had no rows


def test_after_an_empty_partition_the_next_run_asks_nothing_older_than_the_lookback():
    with RoktEmulator() as emulator:
        config = {
            "app_id": emulator.app_id,
            "app_secret": emulator.app_secret,
            "api_url": emulator.url,
            "start_date": "2024-01-01T00:00:00Z",
            "end_date": "2025-03-01T00:00:00Z",
            "account_ids": [LONDON],
        }
        first = run_tap("tap-rokt", config)  # the London account has no campaign or transaction data
        assert first.returncode == 0, first.stderr[-3000:]
        assert first.records("campaign_report") == [] and first.records("transaction_report") == []
        windows = len(emulator.calls(rf"/accounts/{LONDON}/campaigns/$"))
        assert windows == 14  # 425 days in windows of at most 31
        emulator.reset()
        later = run_tap("tap-rokt", {**config, "end_date": "2025-03-04T00:00:00Z"}, state=first.state)
        assert later.returncode == 0, later.stderr[-3000:]
        assert len(emulator.calls(rf"/accounts/{LONDON}/campaigns/$")) == 1
        assert f"account {LONDON}, report days 2025-02-21..2025-03-03 (Europe/London), 1 window(s)" in later.stderr

    with MediaMathEmulator() as emulator:  # an advertiser filter that matches nothing: complete, empty windows
        config = {
            **emulator.credentials,
            "organization_id": 100001,
            "api_url": f"{emulator.url}/reporting/v2",
            "auth_url": f"{emulator.url}/oauth/token",
            "advertiser_ids": [999999],
            "start_date": "2024-01-01T00:00:00Z",
            "end_date": "2025-03-01T00:00:00Z",
        }
        first = run_tap("tap-mediamath", config)
        assert first.returncode == 0, first.stderr[-3000:]
        assert first.records() == []
        emulator.reset()
        later = run_tap("tap-mediamath", {**config, "end_date": "2025-03-04T00:00:00Z"}, state=first.state)
        assert later.returncode == 0, later.stderr[-3000:]
        assert len(emulator.calls(r"/reporting/v2/performance$")) == 1
        assert "report days 2025-02-25..2025-03-03 (UTC), 1 window(s)" in later.stderr
