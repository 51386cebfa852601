"""Requests in flight (inflight.py, the same module in the three taps): the queue on its own, then each tap as a
process against its emulator with 8 requests in flight, judged by what the emulator recorded.

At 8 in flight a tap must give exactly what one request at a time gives (the same records in the same order,
the same STATE, the same requests), while the emulator saw up to 8 requests under way at once; a 429 pauses
every request until its Retry-After has passed; answers that arrive out of order still come out in order.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
import typing as t

import pytest
from fault_matrix import PROFILES
from tap_rokt.inflight import RESUME_SPACING_SECONDS, InFlight, Job, RequestPool, SharedPause

from emulators.testing import run_tap

if t.TYPE_CHECKING:
    from emulators.server import LoggedRequest

LATENCY_MS = 60


# ---------------------------------------------------------------------------------------------- the queue


class _Answers:
    """A stand-in for the network: each job's answer after a delay of its own, recording what was under way."""

    def __init__(self, delays: dict[str, float] | None = None) -> None:
        self.delays = delays or {}
        self.sent: list[str] = []
        self.under_way = 0
        self.most_under_way = 0
        self._lock = threading.Lock()

    def __call__(self, job: Job[str]) -> t.Any:
        with self._lock:
            self.sent.append(job.token)
            self.under_way += 1
            self.most_under_way = max(self.most_under_way, self.under_way)
        time.sleep(self.delays.get(job.token, 0.02))
        with self._lock:
            self.under_way -= 1
        if job.token.startswith("refused"):
            raise PermissionError(job.token)
        return f"answer {job.token}"


def _jobs(*tokens: str) -> list[Job[str]]:
    return [Job(token.split("-")[0], None, token) for token in tokens]


def _take_all(flight: InFlight[str]) -> list[str]:
    taken = []
    while flight.next_partition() is not None:
        taken.append(flight.take()[0].token)
    return taken


def test_answers_are_taken_in_the_order_laid_out_whatever_order_they_arrive_in():
    answers = _Answers({"a-1": 0.3, "a-2": 0.2})  # the first answers last
    flight = InFlight(RequestPool(4), answers, _jobs("a-1", "a-2", "a-3", "b-1", "b-2"))
    assert _take_all(flight) == ["a-1", "a-2", "a-3", "b-1", "b-2"]
    assert answers.most_under_way == 4


def test_one_in_flight_sends_each_job_only_once_the_previous_answer_was_taken():
    answers = _Answers()
    flight = InFlight(RequestPool(1), answers, _jobs("a-1", "a-2", "a-3"))
    assert flight.next_partition() == "a"
    flight.take()
    time.sleep(0.1)
    assert answers.sent == ["a-1"]  # nothing sent ahead
    assert _take_all(flight) == ["a-2", "a-3"]
    assert answers.most_under_way == 1


def test_jobs_put_first_come_before_everything_else():
    answers = _Answers()
    flight = InFlight(RequestPool(1), answers, _jobs("a-1", "a-2"))
    assert flight.take()[0].token == "a-1"
    flight.put_first(_jobs("a-1a", "a-1b"))  # a window split in halves
    assert _take_all(flight) == ["a-1a", "a-1b", "a-2"]
    assert answers.sent == ["a-1", "a-1a", "a-1b", "a-2"]  # the order one request at a time sends them in


def test_no_more_than_the_limit_is_sent_ahead_of_the_answers_taken():
    answers = _Answers()
    flight = InFlight(RequestPool(3), answers, _jobs(*(f"a-{n}" for n in range(20))))
    flight.take()
    time.sleep(0.2)
    # The answer taken was read whole: 3 more are sent while it is parsed, and no more (memory stays flat).
    assert len(answers.sent) == 4
    assert len(_take_all(flight)) == 19
    assert answers.most_under_way == 3


def test_a_streamed_answer_counts_as_in_flight_while_the_stream_reads_it():
    answers = _Answers()
    flight = InFlight(RequestPool(3), answers, _jobs(*(f"a-{n}" for n in range(20))), streamed=True)
    flight.take()
    time.sleep(0.2)
    assert len(answers.sent) == 3  # the one being read and 2 more
    assert len(_take_all(flight)) == 19


def test_a_failed_job_fails_when_its_turn_comes_and_a_dropped_partition_is_forgotten():
    answers = _Answers({"a-1": 0.2})
    flight = InFlight(RequestPool(4), answers, _jobs("a-1", "refused-1", "refused-2", "b-1"))
    assert flight.take()[0].token == "a-1"
    assert flight.next_partition() == "refused"
    with pytest.raises(PermissionError):
        flight.take()
    flight.drop("refused")
    assert _take_all(flight) == ["b-1"]


def test_a_pause_holds_every_request_then_lets_them_leave_one_after_another():
    pause = SharedPause()
    pause.pause(0.3)
    left: list[float] = []
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: (pause.wait(), left.append(time.monotonic() - started))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    left.sort()
    assert left[0] >= 0.29
    assert all(later - earlier >= RESUME_SPACING_SECONDS * 0.9 for earlier, later in itertools.pairwise(left))
    assert pause.pauses == 1


# ---------------------------------------------------------------------------------------------- the taps


def _most_under_way(calls: list[LoggedRequest]) -> int:
    """The most requests the emulator had under way at one instant (from their arrival to their answer)."""
    events = sorted([(call.received, 1) for call in calls] + [(call.at, -1) for call in calls])
    most = current = 0
    for _, change in events:
        current += change
        most = max(most, current)
    return most


def _requests(calls: list[LoggedRequest]) -> collections.Counter:
    return collections.Counter((call.method, call.path, tuple(sorted((k, tuple(v)) for k, v in call.query.items()))) for call in calls)


def _states(run: t.Any) -> list[dict]:
    return [m["value"] for m in run.messages if m["type"] == "STATE"]


def _settings(tap: str, emulator: t.Any, profile: t.Any) -> dict:
    config = profile.config(emulator)
    if tap == "tap-adroll":
        config["end_date"] = "2025-03-25"  # enough one-day windows to keep 8 under way
    if tap == "tap-mediamath":
        config["advertiser_ids"] = [300001, 300002, 300003]  # a partition (and a bookmark) each
    return config


@pytest.mark.parametrize("tap", sorted(PROFILES))
def test_eight_in_flight_give_exactly_what_one_at_a_time_gives(tap):
    profile = PROFILES[tap]()
    with profile.make_emulator() as emulator:
        emulator.latency_ms = LATENCY_MS
        config = _settings(tap, emulator, profile)
        one = run_tap(tap, {**config, "max_concurrent_requests": 1})
        assert one.returncode == 0, one.stderr[-2000:]
        one_calls = emulator.calls(profile.report_path)
        emulator.reset()
        emulator.latency_ms = LATENCY_MS
        # The first report answer is the slowest: later windows are answered before it.
        emulator.faults.add("slow", path=profile.report_path, delay=0.4)
        eight = run_tap(tap, {**config, "max_concurrent_requests": 8})
        assert eight.returncode == 0, eight.stderr[-2000:]
        eight_calls = emulator.calls(profile.report_path)
        api_calls = len(emulator.calls()) - (len(emulator.calls(profile.token_path)) if profile.token_path else 0)

    assert eight.records() == one.records()  # the same records in the same order: period order per partition
    assert _states(eight)[-1] == _states(one)[-1]
    assert _requests(eight_calls) == _requests(one_calls)  # no request more, none less
    assert _most_under_way(one_calls) == 1
    assert _most_under_way(eight_calls) == 8
    assert len(eight.records()) > 0
    # The SDK's http_request_count metric counts every answer, those of the requests in flight included.
    assert sum(_request_counts(eight).values()) == api_calls


def _request_counts(run: t.Any) -> collections.Counter:
    """The values of the ``http_request_count`` METRIC lines of a run, summed per stream."""
    counts: collections.Counter = collections.Counter()
    for line in run.stderr.splitlines():
        if "METRIC: " in line:
            metric = json.loads(line.split("METRIC: ", 1)[1])
            if metric["metric"] == "http_request_count":
                counts[metric["tags"]["stream"]] += metric["value"]
    return counts


def test_a_429_pauses_every_request_until_its_retry_after_has_passed():
    from emulators.rokt import RoktEmulator

    profile = PROFILES["tap-rokt"]()
    with RoktEmulator(app_id="in-flight-id", app_secret="in-flight-secret", accounts=12, latency_ms=LATENCY_MS) as emulator:
        config = {**profile.config(emulator), "app_id": "in-flight-id", "app_secret": "in-flight-secret"}
        baseline = run_tap("tap-rokt", {**config, "max_concurrent_requests": 1})
        emulator.reset()
        # Three requests under way together are refused: their retries wait at the gate together.
        emulator.faults.add("status", status=429, retry_after=1, path=profile.report_path, skip=4, times=3)
        run = run_tap("tap-rokt", {**config, "max_concurrent_requests": 8})
        calls = emulator.calls(profile.report_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records() == baseline.records()
    refusals = [call for call in calls if call.status == 429]
    assert len(refusals) == 3
    refused = max(refusals, key=lambda call: call.at)
    # Requests the tap sent before the 429 reached it may still arrive just after it (allow 0.3 s); then none
    # until the Retry-After has passed, and those held leave one after another.
    sent_meanwhile = [call for call in calls if refused.at + 0.3 < call.received < refused.at + 0.95]
    assert not sent_meanwhile
    after = sorted(call.received for call in calls if call.received >= refused.at + 0.95)
    assert len(after) >= 3
    assert all(later - earlier >= RESUME_SPACING_SECONDS * 0.8 for earlier, later in itertools.pairwise(after[:3]))
