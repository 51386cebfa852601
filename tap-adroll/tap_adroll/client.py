"""The AdRoll CRUD API base stream: URL, shared authenticator, response checks, retries, error messages."""

from __future__ import annotations

import functools
import json
import random
import typing as t
from decimal import Decimal
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse

import backoff
import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._util import utc_now
from singer_sdk.streams import RESTStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_adroll.auth import AdRollAuthenticator

MAX_TRIES = 6  # one request and five retries: waits of about 1, 2, 4, 8 and 16 s without Retry-After
MAX_WAIT_SECONDS = 120  # a longer Retry-After on a 429 means the daily quota is spent: fail now, resume later
API_PREFIX = "/api/v1"
# Answers are decoded with msgspec (several times faster than response.json()), numbers with a fraction
# as Decimal, as the SDK's own parse_response does.
_decode_answer = msgspec.json.Decoder(float_hook=Decimal).decode


class QuotaExhaustedError(FatalAPIError):
    """The API keeps answering 429: the request quota (about 100 requests a day) is spent."""


class AdRollStream(RESTStream):
    """A stream of the AdRoll CRUD API v1: every answer is ``{"results": ...}``."""

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/") + API_PREFIX

    @property
    def authenticator(self) -> AdRollAuthenticator:
        # One authenticator for the whole run, shared by every stream: a rotated refresh token is single-use.
        return self._tap.authenticator  # type: ignore[attr-defined]

    def get_new_paginator(self) -> None:
        """The endpoints the tap uses answer in one piece."""
        return None

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout") or 300)

    # ------------------------------------------------------------------ requests

    def _request(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        self._tap.count_request(self.name)  # type: ignore[attr-defined]  # every attempt spends quota
        return super()._request(prepared_request, context)

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retries as the SDK does; when they run out, one error that says why (quota, or which failure)."""
        # As the SDK builds it, without backoff's own log lines (backoff_handler logs each retry once).
        decorated = backoff.on_exception(
            self.backoff_wait_generator,
            (
                ConnectionResetError,
                RetriableAPIError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=None,
        )(func)

        @functools.wraps(func)
        def call(*args: t.Any, **kwargs: t.Any) -> t.Any:
            try:
                return decorated(*args, **kwargs)
            except RetriableAPIError as exc:
                response = exc.response
                if response is not None and response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
                    raise QuotaExhaustedError(_quota_message(str(exc), f"still refused after {MAX_TRIES} tries")) from None
                raise FatalAPIError(f"{exc} (gave up after {MAX_TRIES} tries)") from None
            except (requests.RequestException, ConnectionResetError) as exc:
                # The exception's text holds the full URL (with the apikey): name the path only.
                prepared = args[0] if args else kwargs.get("prepared_request")
                url = urlparse(getattr(prepared, "url", "") or "")
                msg = (
                    f"AdRoll API {getattr(prepared, 'method', 'GET')} {url.path}{_report_day(url.query)} failed: "
                    f"{type(exc).__name__} (gave up after {MAX_TRIES} tries)"
                )
                raise FatalAPIError(msg) from None

        return call

    # ------------------------------------------------------------------ responses

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == HTTPStatus.UNAUTHORIZED:
            auth = self.authenticator
            if not auth.can_refresh:
                raise FatalAPIError(self.response_error_message(response) + _credentials_hint(auth.method))
            # An expired or revoked access token: renew it once and retry; a fresh token rejected is fatal.
            if getattr(self, "_token_renewed_after_401", False):
                raise FatalAPIError(self.response_error_message(response) + " (rejected again after renewing the token)")
            auth.invalidate()
            try:
                auth.refresh()  # a busy token endpoint raises RetriableAPIError: the retry renews again
            except FatalAPIError as exc:
                raise FatalAPIError(f"{self.response_error_message(response)}; renewing the token failed: {exc}") from None
            self._token_renewed_after_401 = True
            raise RetriableAPIError(self.response_error_message(response), response)
        self._token_renewed_after_401 = False
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            wait = _retry_after(response)
            if wait is not None and wait > MAX_WAIT_SECONDS:
                raise QuotaExhaustedError(
                    _quota_message(self.response_error_message(response), f"the API asks to wait {wait:.0f} s")
                )
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(self.response_error_message(response))
        # A 200 that is not the documented envelope (a proxy's HTML page, a broken or empty body) is never
        # taken for an empty answer: the run fails, naming it, and the next run resumes at the last complete day.
        try:
            body = _decode_answer(response.content)
        except msgspec.DecodeError:
            snippet = response.text[:120].replace("\n", " ")
            detail = f"the answer is not JSON ({response.headers.get('Content-Type')}): {snippet!r}"
            raise FatalAPIError(self._describe(response, detail)) from None
        if not isinstance(body, dict) or "results" not in body:
            raise FatalAPIError(self._describe(response, f"the answer has no 'results': {_api_message(response)}"))
        self._checked_answer = (response, body)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The ``results``: a list of records, or one record (``organization/get``)."""
        results = self.answer(response)["results"]
        yield from results if isinstance(results, list) else [results]

    def answer(self, response: requests.Response) -> dict:
        """The decoded answer: the one validate_response has checked, not decoded a second time."""
        checked = getattr(self, "_checked_answer", None)
        if checked is not None and checked[0] is response:
            return checked[1]
        return _decode_answer(response.content)

    def response_error_message(self, response: requests.Response) -> str:
        """One line: the request (method, path, report day), the status and the API's own message.

        Never the query string (it carries the apikey), the headers (the token) or the request body.
        """
        return self._describe(response, f"{response.status_code} {response.reason}: {_api_message(response)}")

    def _describe(self, response: requests.Response, what: str) -> str:
        request = response.request
        url = urlparse(request.url or response.url)
        return f"AdRoll API {request.method} {url.path}{_report_day(url.query)} failed: {what}"

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
                if wait is None:
                    wait = min(2.0 ** (attempt - 1), MAX_WAIT_SECONDS) * random.uniform(0.5, 1.0)
                else:
                    wait = min(wait, MAX_WAIT_SECONDS)
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
            exception if isinstance(exception, (RetriableAPIError, FatalAPIError)) else type(exception).__name__,
        )


def _report_day(query: str) -> str:
    """`` for day MM-DD-YYYY`` (or a range) when the request is a report request."""
    params = parse_qs(query)
    start, end = params.get("start_date", [None])[-1], params.get("end_date", [None])[-1]
    if not start:
        return ""
    return f" for day {start}" if start == end or not end else f" for days {start}..{end}"


def _api_message(response: requests.Response) -> str:
    """The API's own words: ``{"errors": [...]}``, or ``message``/``error_description`` in other answers."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].replace("\n", " ").strip() or "(empty body)"
    if isinstance(body, dict):
        errors = body.get("errors")
        if errors:
            items = errors if isinstance(errors, list) else [errors]
            texts = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in items]
            return "; ".join(texts)[:500]
        for key in ("message", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:500]
    return json.dumps(body)[:200]


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
    return max(seconds, 0.0)


def _quota_message(error: str, why: str) -> str:
    return (
        f"AdRoll request quota exhausted ({why}): {error}. State is emitted up to the last complete "
        f"report day; run the tap again after the quota resets and it resumes there"
    )


def _credentials_hint(method: str) -> str:
    if method == "personal_access_token":
        return " (check personal_access_token and api_key)"
    return " (the access token was rejected and cannot be renewed: set refresh_token and client_secret)"
