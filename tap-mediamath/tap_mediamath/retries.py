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
import typing as t
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams import RESTStream
from typing_extensions import override

from .cli import REPEATED_LINES_FILTER, network_reason

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

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

    def renew_after_rejection(self) -> str | None:
        """After a 401: arrange a new token for the retry and return None, or say why that cannot help."""

    def note_accepted(self) -> None:
        """The API accepted the credentials: a later 401 may renew them again."""


class RetryingStream(RESTStream):
    """A REST stream that retries, renews tokens and gives up as the contract says."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger.addFilter(REPEATED_LINES_FILTER)
        self.requests_sent = 0
        self.retries = 0

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.count_request()
        credentials = t.cast("RenewableCredentials", self.authenticator)
        if response.status_code == HTTPStatus.UNAUTHORIZED:
            # An expired or revoked token: renew it once and retry; a fresh token rejected is fatal.
            why = credentials.renew_after_rejection()
            if why:
                raise FatalAPIError(f"{self.response_error_message(response)} ({why})")
            raise RetriableAPIError(self.response_error_message(response), response)
        credentials.note_accepted()
        super().validate_response(response)

    def count_request(self) -> None:
        """One try of a request went out (answered or not): every try may spend the API's quota."""
        self.requests_sent += 1

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
                raise self.gave_up(str(exc), exc) from None
            except (requests.RequestException, ConnectionError) as exc:
                self.count_request()
                url = urlsplit(prepared_request.url or "")
                what = (
                    f"{self.describe_request(prepared_request)} failed: {network_reason(exc)}, connecting to {url.scheme}://{url.netloc}/"
                )
                raise self.gave_up(what, exc) from None

        return call

    def gave_up(self, what: str, exc: BaseException) -> FatalAPIError:
        """The error that ends the run when a request failed ``MAX_TRIES`` times."""
        return GaveUpError(f"{what} (gave up after {MAX_TRIES} tries)")

    def describe_request(self, request: requests.PreparedRequest) -> str:
        """``<provider> API <METHOD> <path>``: never the query string, the headers or the body."""
        return f"{self.tap_name} {request.method} {urlsplit(request.url or '').path}"
