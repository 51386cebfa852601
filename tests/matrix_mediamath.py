"""tap-mediamath in the fault matrix: the generic scenarios in streaming mode (JSON lines), plus MediaMath's own
failure modes (an error object inside the stream, a stream shorter than its header announced) and the
paginated mode under a storm and a cut answer."""

from __future__ import annotations

from fault_matrix import Profile, Scenario

REPORT_PATH = r"/reporting/v2/[a-z0-9-]+$"
FIRST_WINDOW = "window 2025-03-01T00:00:00Z..2025-03-08T00:00:00Z"


def profile() -> Profile:
    from emulators.mediamath import MediaMathEmulator

    client_id, client_secret = "matrix-mm-client-4e1f", "matrix-mm-SECRET-b83c5d"
    username, password = "matrix-bot@example.com", "matrix-mm-PASSWORD-7a20f9"
    paginated = {"response_mode": "paginated", "page_size": 50}
    return Profile(
        tap="tap-mediamath",
        provider="MediaMath",
        make_emulator=lambda: MediaMathEmulator(
            username=username, password=password, client_id=client_id, client_secret=client_secret,
        ),
        config=lambda emulator: {
            "api_url": f"{emulator.url}/reporting/v2", "auth_url": f"{emulator.url}/oauth/token",
            "client_id": client_id, "client_secret": client_secret, "username": username, "password": password,
            "organization_id": 100001, "start_date": "2025-03-01", "end_date": "2025-03-22",
            "report_window_days": 7, "response_mode": "streaming",
        },
        secrets=lambda config: [config["client_secret"], config["password"]],
        report_path=REPORT_PATH,
        token_path=r"/oauth/token$",
        extra_scenarios=(
            Scenario(
                "error object inside the stream",
                ({"kind": "stream_error", "path": "report", "params": {
                    "after_rows": 5, "error_code": "InternalServerError", "message": "query execution failed"}},),
                expect="fail",
                message=("the stream failed after 5 rows", "InternalServerError: query execution failed",
                         "(request_id ", FIRST_WINDOW),
            ),
            Scenario(
                "stream shorter than announced",
                ({"kind": "short_stream", "path": "report", "skip": 1, "params": {"missing": 2}},),
                expect="fail",
                message=("window 2025-03-08T00:00:00Z..2025-03-15T00:00:00Z", "announced total_items_count",
                         "the answer was cut short"),
            ),
            Scenario(
                "429 storm with Retry-After, paginated",
                ({"kind": "status", "status": 429, "retry_after": 0.2, "path": "report", "times": 4},),
                config=paginated,
            ),
            Scenario(
                "answer cut mid-body, paginated",
                ({"kind": "cut", "path": "report", "after_bytes": 60, "skip": 1, "times": 2},),
                config=paginated,
            ),
            Scenario(
                "field of the wrong type, paginated",
                ({"kind": "wrong_type", "path": "report", "skip": 2},),
                expect="fail",
                message=("not a number", "page 2"),
                config=paginated,
            ),
            Scenario(
                "row outside the window, paginated",
                ({"kind": "outside_window", "path": "report", "skip": 1},),
                expect="fail",
                message=("outside the window", "page 1"),
                config=paginated,
            ),
        ),
        messages={
            # A streamed answer is JSON lines: an empty body is no header line rather than broken JSON.
            "empty body": ("the answer was empty (no header line)", FIRST_WINDOW),
            "malformed JSON": ("line 1 of the stream is not JSON", FIRST_WINDOW),
            "HTML page with status 200": ("line 1 of the stream is not JSON", FIRST_WINDOW),
            "field of the wrong type": ("not a number", FIRST_WINDOW),
            "row outside the window": ("outside the window", FIRST_WINDOW),
            "429 outlasting the retries": ("MediaMath", "429 Too Many Requests"),
        },
    )
