"""The Rokt Query API base stream: URL, shared authenticator, response checks, retries, error messages."""

from __future__ import annotations

import json
import random
import typing as t
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlparse

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._util import utc_now
from singer_sdk.streams import RESTStream

if t.TYPE_CHECKING:
    import requests

    from tap_rokt.auth import RoktAuthenticator

MAX_TRIES = 6  # one request and five retries: waits of about 1, 2, 4, 8 and 16 s without Retry-After
MAX_WAIT_SECONDS = 120


class RoktStream(RESTStream):
    """A stream of the Rokt Query API."""

    records_jsonpath = "$[*]"

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def authenticator(self) -> RoktAuthenticator:
        # One token for the whole run, shared by every stream.
        return self._tap.authenticator  # type: ignore[attr-defined]

    @property
    def timeout(self) -> int:
        return self.config["request_timeout"]

    def get_new_paginator(self) -> None:
        """The Query API has no pagination: one request, one answer."""
        return None

    # ------------------------------------------------------------------ responses

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == HTTPStatus.UNAUTHORIZED:
            # An expired or revoked token: renew it once and retry; a fresh token rejected is fatal.
            if getattr(self, "_token_renewed_after_401", False):
                raise FatalAPIError(self.response_error_message(response) + " (rejected again after renewing the token)")
            self._token_renewed_after_401 = True
            self.authenticator.invalidate()
            raise RetriableAPIError(self.response_error_message(response), response)
        self._token_renewed_after_401 = False
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(self.response_error_message(response))

    def response_error_message(self, response: requests.Response) -> str:
        """One line: provider, request (method, path, report window), status and the API's own message.

        The path holds only account ids; headers (the token) and the query are never included.
        """
        request = response.request
        window = _report_window(request.body)
        return (
            f"Rokt API {request.method} {urlparse(response.url).path}{window} "
            f"failed: {response.status_code} {response.reason}: {_api_message(response)}"
        )

    # ------------------------------------------------------------------ retries

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Exponential waits with jitter (up to 1, 2, 4, ... s), or what the API asks for in ``Retry-After``."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            if response is not None and response.status_code == HTTPStatus.UNAUTHORIZED:
                wait = 0.0  # a new token is all it takes
            else:
                wait = _retry_after(response)
                if wait is None:  # exponential, with jitter so parallel clients spread out
                    wait = min(2.0 ** (attempt - 1), MAX_WAIT_SECONDS) * random.uniform(0.5, 1.0)
            exception = yield wait

    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    def backoff_jitter(self, value: float) -> float:
        return value  # jitter is applied in backoff_wait_generator, never to the API's Retry-After

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        exception = details.get("exception")
        self.logger.warning(
            "Retrying after try %d of %d (waiting %.1f s): %s",
            details.get("tries"),
            MAX_TRIES,
            details.get("wait") or 0.0,
            exception if isinstance(exception, RetriableAPIError) else type(exception).__name__,
        )


def _report_window(body: bytes | str | None) -> str:
    """`` for window START..END`` when the request body is a report query."""
    if not body:
        return ""
    try:
        query = json.loads(body)
    except ValueError:
        return ""
    if isinstance(query, dict) and "startDate" in query:
        return f" for window {query.get('startDate')}..{query.get('endDate')} (end exclusive)"
    return ""


def _api_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].replace("\n", " ") or "(empty body)"
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "errors"):
            if body.get(key):
                return str(body[key])
    return json.dumps(body)[:300]


def _retry_after(response: requests.Response | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - utc_now()).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)
