"""Requests in flight: up to ``max_concurrent_requests`` API requests at once, answers taken oldest first.

The SDK sends a stream's requests one after another, so a run costs requests x latency. Here a stream lays out
its requests as jobs, in the order one request at a time would send them (every partition's report windows, in
the order the SDK syncs the partitions; per-account listings in account order), and a pool of worker threads
sends them, at most ``max_concurrent_requests`` at once for the whole tap. The stream takes the answers in the
order the jobs were laid out and parses them on the main thread, so records, bookmarks and STATE messages are
exactly what one request at a time gives, and a run killed at any moment resumes without a lost or doubled day.

- Jobs are sent only when the stream asks for its next answer, and a stream has at most ``max_concurrent_requests``
  jobs sent and not yet taken: memory stays flat, and a streamed answer waits unread in its own connection.
  An answer read whole by its worker is over once taken, so another job leaves while the stream parses it and
  ``max_concurrent_requests`` stay in flight; a streamed answer is still in flight while the stream reads it.
- An answer can ask for more jobs before everything else (a window split in halves, a window's further pages, a
  window asked again): ``put_first``.
- With 1, a job is sent only once the previous answer has been parsed: the requests and their order are those of
  the SDK's own loop.
- Limits are shared (``SharedPause``): a 429 pauses every request of the tap until its ``Retry-After`` has passed,
  then they resume ``RESUME_SPACING_SECONDS`` apart, and one request at a time tries the API until one is not
  refused, so retries in flight do not spend a quota one request at a time would not (AdRoll's 100 a day). When
  a request gives up, no other request is tried again. Tokens are renewed once for every waiting request
  (tokens.py).
- A job fails in the order it was laid out: its error reaches the stream when the stream comes to it, exactly
  where one request at a time would have failed. Jobs of a partition set aside are dropped, sent or not.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Hashable, Iterable, Iterator

    import requests

RESUME_SPACING_SECONDS = 0.05
TOO_MANY_REQUESTS = 429
_T = t.TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class Job(t.Generic[_T]):
    """One request to send: the SDK partition context it belongs to, its partition key and its token."""

    partition: Hashable  # what a partition set aside is dropped by
    context: dict | None
    token: _T


class SharedPause:
    """Every try of a request of the tap passes here.

    A 429 closes the gate until its Retry-After is over; the requests held then leave one
    ``RESUME_SPACING_SECONDS`` apart instead of all at the same instant. The request that met the 429 becomes the
    probe: until it is answered otherwise (or gives up), the other requests wait for it instead of spending tries
    of their own on a quota that one request at a time would not have spent.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._next_leave = 0.0  # monotonic time the next request may leave (the gate reopens, then one by one)
        self.pauses = 0
        self._probe: int | None = None  # the thread of the request probing the API after a 429

    def pause(self, seconds: float) -> None:
        """The API asked to wait ``seconds``: nobody sends before then."""
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._next_leave:
                self._next_leave = until
                self.pauses += 1

    def wait(self) -> None:
        """Block until this request may be sent."""
        with self._lock:
            now = time.monotonic()
            if now >= self._next_leave:  # no pause, or every request held by the last one has left
                return
            leave = max(self._next_leave, now)
            self._next_leave = leave + RESUME_SPACING_SECONDS
        time.sleep(max(leave - time.monotonic(), 0.0))

    @contextlib.contextmanager
    def turn(self, stopped: Callable[[], BaseException | None]) -> Generator[Turn, None, None]:
        """One try of a request (set ``Turn.status`` from its answer): while another request probes the API, wait
        for it; ``stopped`` says whether a request gave up meanwhile (then this one raises that error)."""
        me = threading.get_ident()
        with self._lock:
            while self._probe not in (None, me) and stopped() is None:
                self._lock.wait(0.2)
        failure = stopped()
        if failure is not None:
            raise failure
        self.wait()
        turn = Turn()
        try:
            yield turn
        finally:
            with self._lock:
                if turn.status == TOO_MANY_REQUESTS and self._probe is None:
                    self._probe = me
                elif turn.status is not None and turn.status != TOO_MANY_REQUESTS and self._probe == me:
                    self._probe = None
                    # Those held leave one by one from now on, as after a pause.
                    self._next_leave = max(self._next_leave, time.monotonic() + RESUME_SPACING_SECONDS)
                    self._lock.notify_all()

    def request_done(self) -> None:
        """This thread's request is over (answered, refused or given up): it probes no longer."""
        with self._lock:
            if self._probe == threading.get_ident():
                self._probe = None
                self._next_leave = max(self._next_leave, time.monotonic() + RESUME_SPACING_SECONDS)
                self._lock.notify_all()


@dataclasses.dataclass
class Turn:
    """What one try got: its HTTP status (None without an answer)."""

    status: int | None = None


class RequestPool:
    """The tap's worker threads: at most ``size`` requests in flight, whatever stream sends them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pause = SharedPause()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.gave_up: BaseException | None = None  # the first request that gave up: no other tries again

    def give_up(self, error: BaseException) -> None:
        if self.gave_up is None:
            self.gave_up = error

    def submit(self, work: Callable[[], _T]) -> concurrent.futures.Future[_T]:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="request")
            return self._executor.submit(work)

    def shutdown(self) -> None:
        """Send nothing more (a failed run): requests not yet started are cancelled."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


@dataclasses.dataclass
class _Entry(t.Generic[_T]):
    job: Job[_T]
    future: concurrent.futures.Future | None = None  # None: not sent yet


class InFlight(t.Generic[_T]):
    """One stream's jobs: sent through the pool up to ``limit`` ahead, answered in the order laid out."""

    def __init__(
        self,
        pool: RequestPool,
        send: Callable[[Job[_T]], requests.Response],
        jobs: Iterable[Job[_T]],
        *,
        streamed: bool = False,
        done: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._send = send
        self._streamed = streamed  # answers arrive unread: the stream reads each while it parses it
        self._done = done  # called once, when every job is answered or the flight is closed
        self._jobs: Iterator[Job[_T]] = iter(jobs)
        self._queue: collections.deque[_Entry[_T]] = collections.deque()
        self._dropped: set[Hashable] = set()
        self._exhausted = False

    # ------------------------------------------------------------------ what the stream asks

    def next_job(self) -> Job[_T] | None:
        """The job whose answer comes next, or None when every job is answered."""
        if not self._queue:
            self._pull()
        if self._queue:
            return self._queue[0].job
        self._finish()
        return None

    def next_partition(self) -> Hashable | None:
        """The partition of the next answer to take, or None when every job is answered."""
        job = self.next_job()
        return job.partition if job is not None else None

    def take(self) -> tuple[Job[_T], requests.Response]:
        """The next answer in the order laid out (waiting for it); its request's error is raised here."""
        limit = self._pool.size
        self._fill(limit)
        entry = self._queue.popleft()
        if entry.future is None:
            self._submit(entry)
        assert entry.future is not None
        answer = entry.future.result()
        if limit > 1 and not self._streamed:
            self._fill(limit)  # the answer is read whole: one more leaves while the stream parses it
        return entry.job, answer

    def put_first(self, jobs: Iterable[Job[_T]]) -> None:
        """Jobs whose answers come before every other (a split window's halves, further pages, a retry)."""
        self._queue.extendleft(_Entry(job) for job in reversed(list(jobs)))

    def drop(self, partition: Hashable) -> None:
        """A partition set aside: forget its jobs, sent or not (an answer already under way is discarded)."""
        self._dropped.add(partition)
        for entry in [e for e in self._queue if e.job.partition == partition]:
            self._queue.remove(entry)
            if entry.future is not None:
                entry.future.cancel()

    def close(self) -> None:
        """The stream stops early (a failure): cancel what was not sent."""
        for entry in self._queue:
            if entry.future is not None:
                entry.future.cancel()
        self._queue.clear()
        self._exhausted = True
        self._finish()

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()

    @contextlib.contextmanager
    def stopping_on_failure(self) -> Generator[None, None, None]:
        """Around a stream's use of its answers: a failure there ends the run, so nothing more is sent."""
        try:
            yield
        except Exception:
            self.close()
            self._pool.shutdown()
            raise

    # ------------------------------------------------------------------ sending ahead

    def _pull(self) -> bool:
        """Lay out one more job from the stream's plan; False when the plan is done."""
        while not self._exhausted:
            job = next(self._jobs, None)
            if job is None:
                self._exhausted = True
            elif job.partition not in self._dropped:
                self._queue.append(_Entry(job))
                return True
        return False

    def _submit(self, entry: _Entry[_T]) -> None:
        job = entry.job
        entry.future = self._pool.submit(lambda: self._send(job))

    def _fill(self, limit: int) -> None:
        """Send jobs, oldest first, until ``limit`` are sent and not taken (the head always goes)."""
        if not self._queue:
            self._pull()
        sent = sum(1 for entry in self._queue if entry.future is not None)
        index = 0
        while sent < limit:
            if index == len(self._queue) and not self._pull():
                break
            entry = self._queue[index]
            if entry.future is None:
                self._submit(entry)
                sent += 1
            index += 1
