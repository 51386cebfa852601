"""The fault matrix: every tap, against its emulator, under faults, interruptions and broken answers.

A scenario either must deliver exactly the rows of a fault-free run (same keys, same values), or must fail
with a non-zero exit and a message naming what failed, after which a run resumed from the state it left
must complete the data without a gap. Every run is also scanned for secrets: the credentials, each token the
emulator issued and each Authorization header value must appear nowhere in stdout, stderr or state.

Used by tests/test_fault_matrix.py (one test per tap and scenario) and scripts/fault_matrix.py (one table).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import subprocess
import tempfile
import typing as t
from pathlib import Path

from emulators.testing import TapRun, check_records, run_tap, tap_executable

if t.TYPE_CHECKING:
    from emulators.server import Emulator


@dataclasses.dataclass(frozen=True)
class Profile:
    """How to run one tap in the matrix."""

    tap: str
    provider: str  # as error messages name it
    make_emulator: t.Callable[[], Emulator]
    config: t.Callable[[Emulator], dict]  # settings with distinctive secret values
    secrets: t.Callable[[dict], list[str]]  # the values that must never be printed, from the config
    report_path: str  # regex of the report endpoint(s), where faults are injected
    token_path: str | None  # regex of the token endpoint, when the API issues tokens
    extra_scenarios: tuple[Scenario, ...] = ()
    messages: t.Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # scenario name -> its own wording
    replaced: tuple[Scenario, ...] = ()  # the tap's own version of a generic scenario (same name)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    faults: tuple[dict, ...] = ()  # Fault fields; path "report" / "token" is resolved per profile
    expect: str = "exact"  # exact | fail
    message: tuple[str, ...] = ()  # substrings the failure's last log lines must contain ({provider} allowed)
    config: dict = dataclasses.field(default_factory=dict)  # setting overrides
    kill_at: float | None = None  # SIGKILL the tap after this fraction of its records, then resume


@dataclasses.dataclass
class Outcome:
    tap: str
    scenario: str
    outcome: str
    expected_rows: int
    delivered_rows: int
    ok: bool
    detail: str = ""


GENERIC_SCENARIOS = (
    Scenario("no fault"),
    Scenario("429 storm with Retry-After", ({"kind": "status", "status": 429, "retry_after": 0.2, "path": "report", "times": 4},)),
    Scenario("429 storm without Retry-After", ({"kind": "status", "status": 429, "path": "report", "times": 2},)),
    Scenario("500/502/503 burst", tuple({"kind": "status", "status": s, "path": "report"} for s in (500, 502, 503))),
    Scenario("connections dropped", ({"kind": "reset", "path": "report", "times": 2},)),
    Scenario("answer cut mid-body", ({"kind": "cut", "path": "report", "after_bytes": 60, "times": 2},)),
    Scenario("answer slower than the timeout", ({"kind": "slow", "delay": 3, "path": "report"},), config={"request_timeout": 1}),
    Scenario(
        "429 outlasting the retries",
        ({"kind": "status", "status": 429, "retry_after": 0, "path": "report", "times": 1000},),
        expect="fail",
        message=("{provider}", "429"),
    ),
    Scenario("token expires mid-run", ({"kind": "expire_tokens", "path": "report", "skip": 1},)),
    Scenario(
        "token revoked",
        (
            {"kind": "revoke_tokens", "path": "report", "skip": 1},
            {"kind": "status", "status": 401, "path": "token", "skip": 1, "times": 100},
        ),
        expect="fail",
        message=("401",),
    ),
    Scenario("malformed JSON", ({"kind": "malformed", "path": "report"},), expect="fail", message=("not JSON",)),
    Scenario("HTML page with status 200", ({"kind": "html", "path": "report"},), expect="fail", message=("not JSON",)),
    Scenario("empty body", ({"kind": "empty", "path": "report"},), expect="fail", message=("not JSON",)),
    Scenario("field of the wrong type", ({"kind": "wrong_type", "path": "report"},), expect="fail", message=("not a number",)),
    Scenario("row outside the window", ({"kind": "outside_window", "path": "report"},), expect="fail", message=("outside the window",)),
    Scenario("SIGKILL after 10% of the records", kill_at=0.1),
    Scenario("SIGKILL after 50% of the records", kill_at=0.5),
    Scenario("SIGKILL after 90% of the records", kill_at=0.9),
)


def scenarios(profile: Profile) -> tuple[Scenario, ...]:
    own = {scenario.name: scenario for scenario in profile.replaced}
    return tuple(own.get(scenario.name, scenario) for scenario in GENERIC_SCENARIOS) + profile.extra_scenarios


# ---------------------------------------------------------------------------------------------- running


def _keyed(run: TapRun) -> dict[tuple, dict]:
    """Rows of the incremental (report) streams by stream and primary key; later rows win, like an upsert."""
    keys = {m["stream"]: m["key_properties"] for m in run.messages if m["type"] == "SCHEMA" and m.get("bookmark_properties")}
    rows: dict[tuple, dict] = {}
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] in keys:
            record = message["record"]
            rows[(message["stream"], *(record[k] for k in keys[message["stream"]]))] = record
    return rows


def _inject(emulator: Emulator, profile: Profile, faults: t.Iterable[dict]) -> None:
    for given in faults:
        spec = dict(given)
        where = spec.pop("path", "report")
        path = {"report": profile.report_path, "token": profile.token_path}.get(where, where)
        if path is None:
            continue  # e.g. a token fault for an API without a token endpoint
        emulator.faults.add(spec.pop("kind"), path=path, **spec)


def _leaks(profile: Profile, config: dict, emulator: Emulator, *runs: TapRun) -> list[str]:
    secrets = set(profile.secrets(config)) | set(emulator.tokens.issued)
    secrets |= {f"Bearer {token}" for token in emulator.tokens.issued}
    found = []
    for run in runs:
        text = run.stdout + run.stderr
        found += [f"{secret[:4]}... in output" for secret in secrets if secret and secret in text]
    return found


def _kill_after(tap: str, config: dict, records: int) -> TapRun:
    """Run the tap and SIGKILL it once it has written ``records`` RECORD messages."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        process = subprocess.Popen(
            [tap_executable(tap), "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        lines, seen = [], 0
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            seen += '"type":"RECORD"' in line.replace(" ", "")
            if seen >= records:
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait()
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    check_records(tap, messages)  # what it wrote before the kill is held to its schemas too
    return TapRun(process.returncode, "".join(lines), "", messages)


def run_scenario(profile: Profile, scenario: Scenario, in_flight: int = 1) -> Outcome:
    """One scenario, with ``in_flight`` requests in flight (max_concurrent_requests)."""
    with profile.make_emulator() as emulator:
        config = {**profile.config(emulator), "max_concurrent_requests": in_flight}
        baseline = run_tap(profile.tap, config)
        if baseline.returncode != 0:
            return Outcome(profile.tap, scenario.name, "baseline failed", 0, 0, False, baseline.stderr[-500:])
        expected = _keyed(baseline)
        emulator.reset()
        config = {**config, **scenario.config}

        if scenario.kill_at is not None:
            killed = _kill_after(profile.tap, config, max(1, int(len(baseline.records()) * scenario.kill_at)))
            resumed = run_tap(profile.tap, config, state=killed.state)
            delivered = {**_keyed(killed), **_keyed(resumed)}
            ok = killed.returncode == -signal.SIGKILL and resumed.returncode == 0 and delivered == expected
            detail = "" if ok else f"killed rc={killed.returncode}, resumed rc={resumed.returncode}: {resumed.stderr[-300:]}"
            leaks = _leaks(profile, config, emulator, killed, resumed)
            return _outcome(profile, scenario, "killed, resumed", expected, delivered, ok and not leaks, detail, leaks)

        _inject(emulator, profile, scenario.faults)
        run = run_tap(profile.tap, config)
        delivered = _keyed(run)
        if scenario.expect == "exact":
            ok = run.returncode == 0 and delivered == expected
            detail = "" if ok else f"rc={run.returncode}, {len(delivered)} rows: {run.stderr[-400:]}"
            return _outcome(
                profile,
                scenario,
                "exit 0" if run.returncode == 0 else f"exit {run.returncode}",
                expected,
                delivered,
                ok,
                detail,
                _leaks(profile, config, emulator, run),
            )

        # Must fail loudly, name the failure, then resume from the state it left without a gap.
        tail = "\n".join(run.stderr.strip().splitlines()[-3:])
        wanted = [text.format(provider=profile.provider) for text in profile.messages.get(scenario.name, scenario.message)]
        if in_flight > 1:  # the fault hits whichever request reaches the emulator first: any window or page may be named
            wanted = [text for text in wanted if not text.startswith(("window ", "page "))]
        named = all(text in tail for text in wanted)
        emulator.faults.clear()
        resumed = run_tap(profile.tap, config, state=run.state)
        union = {**delivered, **_keyed(resumed)}
        ok = run.returncode != 0 and named and "Traceback" not in run.stderr and resumed.returncode == 0 and union == expected
        detail = "" if ok else f"rc={run.returncode}, message {tail[-300:]!r} (wanted {wanted}), resumed rc={resumed.returncode}"
        outcome = f"exit {run.returncode}, resumed" if run.returncode else "exit 0 (should fail)"
        return _outcome(profile, scenario, outcome, expected, union, ok, detail, _leaks(profile, config, emulator, run, resumed))


def _outcome(profile, scenario, outcome, expected, delivered, ok, detail, leaks) -> Outcome:
    if leaks:
        ok, detail = False, f"{detail} secrets leaked: {leaks}"
    return Outcome(profile.tap, scenario.name, outcome, len(expected), len(delivered), ok, detail)


# ---------------------------------------------------------------------------------------------- profiles

# Each tap's profile lives in tests/matrix_<provider>.py as ``profile() -> Profile``.
PROFILES: dict[str, t.Callable[[], Profile]] = {
    tap: (lambda module=module: importlib.import_module(module).profile())
    for tap, module in (("tap-rokt", "matrix_rokt"), ("tap-adroll", "matrix_adroll"), ("tap-mediamath", "matrix_mediamath"))
}
