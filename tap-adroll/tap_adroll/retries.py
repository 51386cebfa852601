"""Retries and give-ups shared by the three taps, on the SDK's hooks.

- HTTP 429 and 5xx, connection resets and timeouts are retried by the SDK's backoff decorator, at most
  ``MAX_TRIES`` tries in all, waiting what the API asks in ``Retry-After`` (capped at ``MAX_WAIT_SECONDS``) or
  else 1, 2, 4, 8, 16 s with jitter (half to all of each, so that parallel runs spread out).
- A 401 renews the token once (through the authenticator) and retries at once; a second 401 in a row fails.
- When the tries are spent, the run fails with one line: the request (never its query or headers), what
  went wrong, and how many tries were made.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import threading
import typing as t
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import PageContext
from typing_extensions import override

from .cli import REPEATED_LINES_FILTER, network_reason
from .inflight import InFlight
from .isolation import REFUSALS, PartitionRefusedError

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk import metrics
    from singer_sdk.helpers.types import Context

    from .inflight import Job, RequestPool

MAX_TRIES = 6  # one request and five retries
MAX_WAIT_SECONDS = 120.0


class GaveUpError(FatalAPIError):
    """A request still failed after ``MAX_TRIES`` tries."""


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if any, uncapped."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - dt.datetime.now(dt.UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0)


def backoff_seconds(attempt: int) -> float:
    """The wait before retry ``attempt`` (1, 2, ...) when the API names none: up to 1, 2, 4, ... s, jittered."""
    return min(2.0 ** (attempt - 1), MAX_WAIT_SECONDS) * random.uniform(0.5, 1.0)  # noqa: S311 - not for secrets


def wait_before_retry(exception: BaseException, attempt: int) -> float:
    """How long to wait before retrying after ``exception``: nothing after a 401 (a new token is all it
    takes), the API's ``Retry-After`` when it sends one, else exponential backoff."""
    response = getattr(exception, "response", None)
    if response is not None and response.status_code == HTTPStatus.UNAUTHORIZED:
        return 0.0
    asked = retry_after_seconds(response)
    return backoff_seconds(attempt) if asked is None else min(asked, MAX_WAIT_SECONDS)


class RenewableCredentials(t.Protocol):
    """What the streams ask of an authenticator (every tap's authenticators implement it)."""

    def renew_after_rejection(self, rejected: str | None) -> str | None:
        """After a 401 of a request sent with the ``Authorization`` header ``rejected``: arrange a new token for the
        retry (unless another request already did) and return None, or say why that cannot help."""

    def note_accepted(self) -> None:
        """The API accepted the credentials: a later 401 may renew them again."""


class RetryingStream(RESTStream):
    """A REST stream that retries, renews tokens and gives up as the contract says."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger.addFilter(REPEATED_LINES_FILTER)
        self.requests_sent = 0
        self.retries = 0
        self._counts_lock = threading.RLock()  # requests are sent from the pool's threads
        self._answer_counter: metrics.Counter | None = None  # the SDK's http_request_count of the answers taken

    @property
    def request_pool(self) -> RequestPool:
        """The tap's pool of requests in flight (every provider's client.py says where the run keeps it)."""
        raise NotImplementedError

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.count_request()
        credentials = t.cast("RenewableCredentials", self.authenticator)
        if response.status_code == HTTPStatus.UNAUTHORIZED:
            # An expired or revoked token: renew it once and retry; a fresh token rejected is fatal.
            sent_with = response.request.headers.get("Authorization")
            why = credentials.renew_after_rejection(sent_with if isinstance(sent_with, str) else None)
            if why:
                raise FatalAPIError(f"{self.response_error_message(response)} ({why})")
            raise RetriableAPIError(self.response_error_message(response), response)
        credentials.note_accepted()
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            asked = retry_after_seconds(response)
            if asked is not None:  # every request of the tap waits, not only this one
                self.request_pool.pause.pause(min(asked, MAX_WAIT_SECONDS))
        if response.status_code in REFUSALS:
            raise PartitionRefusedError(self.response_error_message(response), response)
        super().validate_response(response)

    def count_request(self) -> None:
        """One try of a request went out (answered or not): every try may spend the API's quota."""
        with self._counts_lock:
            self.requests_sent += 1

    # ------------------------------------------------------------------ one request, from the pool's threads

    def send_job(self, job: Job) -> requests.Response:
        """A job's request, built by the SDK's request hooks and sent with the retries (in a pool thread)."""
        http_request = self.get_http_request(page=PageContext(stream_context=job.context, next_page_token=job.token))
        body_key = "json" if self.payload_as_json else "data"
        prepared = self.build_prepared_request(
            method=http_request.method,
            url=http_request.url,
            params=http_request.encode_params(),
            headers=http_request.headers,
            **{body_key: http_request.data},
        )
        try:
            response = self.request_decorator(self.send_prepared)(prepared, job.context)
        finally:
            self.request_pool.pause.request_done()
        self._count_answer()
        return response

    def _count_answer(self) -> None:
        """The SDK's ``http_request_count`` metric, which its own request loop keeps: one per answer (not per try)."""
        with self._counts_lock:
            if self._answer_counter is None:
                self._answer_counter = self.get_http_request_counter()
            self._answer_counter.increment()

    def _log_answer_count(self) -> None:
        """A flight is over: log the count not yet logged (the SDK logs its own at the end of each request loop)."""
        with self._counts_lock:
            counter, self._answer_counter = self._answer_counter, None
        if counter is not None:
            counter.exit()

    def send_prepared(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        """One try: wait while the API has asked every request to, authenticate (a fresh token if due), send, check."""
        pool = self.request_pool
        # After another request gave up, the run ends with its error: no more tries.
        with pool.pause.turn(lambda: pool.gave_up) as turn:
            authenticated = self.authenticator(prepared_request)
            response = self.requests_session.send(authenticated, timeout=self.timeout, allow_redirects=self.allow_redirects)
            turn.status = response.status_code
            self.validate_response(response)
        return response

    def in_flight(self, jobs: Iterable[Job]) -> InFlight:
        """This stream's jobs, sent by the tap's pool and answered in order (inflight.py), over a connection pool
        that keeps a connection per request in flight (requests keeps 10 per host by default and drops the rest)."""
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.request_pool.size + 1)
        self.requests_session.mount("https://", adapter)
        self.requests_session.mount("http://", adapter)
        return InFlight(self.request_pool, self.send_job, jobs, streamed=bool(self.requests_session.stream), done=self._log_answer_count)

    # ------------------------------------------------------------------ the SDK's backoff hooks

    @override
    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        attempts = itertools.count(1)
        return self.backoff_runtime(value=lambda exception: wait_before_retry(exception, next(attempts)))

    @override
    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # the jitter is in backoff_seconds, never on the API's own Retry-After

    @override
    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        with self._counts_lock:
            self.retries += 1
        exception = details.get("exception")
        if not isinstance(exception, (RetriableAPIError, FatalAPIError)):
            self.count_request()  # a try without an answer: validate_response did not see it
        reason = exception if isinstance(exception, (RetriableAPIError, FatalAPIError)) else network_reason(exception)
        self.logger.warning(
            "Retrying after try %d of %d (waiting %.1f s): %s", details.get("tries"), MAX_TRIES, details.get("wait") or 0.0, reason
        )

    @override
    def request_decorator(self, func: t.Callable) -> t.Callable:
        """The SDK's retrying decorator; when the tries run out, one line that says what failed and why."""
        decorated = super().request_decorator(func)

        @functools.wraps(func)
        def call(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            try:
                return decorated(prepared_request, context)
            except RetriableAPIError as exc:
                error = self.gave_up(str(exc), exc)
            except (requests.RequestException, ConnectionError) as exc:
                self.count_request()
                url = urlsplit(prepared_request.url or "")
                what = (
                    f"{self.describe_request(prepared_request)} failed: {network_reason(exc)}, connecting to {url.scheme}://{url.netloc}/"
                )
                error = self.gave_up(what, exc)
            self.request_pool.give_up(error)  # requests in flight try no more
            raise error from None

        return call

    def gave_up(self, what: str, exc: BaseException) -> FatalAPIError:
        """The error that ends the run when a request failed ``MAX_TRIES`` times."""
        return GaveUpError(f"{what} (gave up after {MAX_TRIES} tries)")

    def describe_request(self, request: requests.PreparedRequest) -> str:
        """``<provider> API <METHOD> <path>``: never the query string, the headers or the body."""
        return f"{self.tap_name} {request.method} {urlsplit(request.url or '').path}"
