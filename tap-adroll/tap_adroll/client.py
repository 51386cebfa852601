"""The AdRoll CRUD API base stream: URL, shared authenticator, answers decoded and checked, quota, error lines."""

from __future__ import annotations

import typing as t
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import msgspec
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from .cli import api_error_text
from .isolation import SET_ASIDE, SetAside
from .retries import MAX_TRIES, MAX_WAIT_SECONDS, RetryingStream, retry_after_seconds

if t.TYPE_CHECKING:
    import requests
    from singer_sdk import Tap
    from singer_sdk.pagination import BaseAPIPaginator

    from .auth import AdRollOAuthAuthenticator, PersonalAccessTokenAuthenticator
    from .inflight import RequestPool
    from .lookups import AdRollLookups

API_PREFIX = "/api/v1"
# Answers are decoded with msgspec (several times faster than response.json()), fractions as Decimal.
decode_answer = msgspec.json.Decoder(float_hook=Decimal).decode


class QuotaExhaustedError(FatalAPIError):
    """The API keeps answering 429: the request quota (about 100 requests a day) is spent."""


class AdRollStream(RetryingStream):
    """A stream of the AdRoll CRUD API v1: every answer is ``{"results": ...}``."""

    def __init__(self, tap: Tap, lookups: AdRollLookups, **kwargs: t.Any) -> None:
        super().__init__(tap, **kwargs)
        self.tap = tap
        self.lookups = lookups

    @property
    @override
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/") + API_PREFIX

    @property
    @override
    def authenticator(self) -> PersonalAccessTokenAuthenticator | AdRollOAuthAuthenticator:
        return self.lookups.authenticator  # one for the whole run, shared by every stream: refresh tokens are single-use

    @property
    @override
    def request_pool(self) -> RequestPool:
        return self.lookups.pool

    def set_aside(self, advertisable_eid: str, refusal: FatalAPIError) -> None:
        """The API refused this advertisable (isolation.py): the stream goes on without it."""
        SET_ASIDE.add(SetAside(self.name, f"advertisable {advertisable_eid}", str(refusal), "advertisable_eids"), self.logger)

    @property
    @override
    def timeout(self) -> int:
        return int(self.config["request_timeout"])

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None  # one request, one answer; report streams walk their date windows instead

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Every answer spends quota; a 429 asking to wait past ``MAX_WAIT_SECONDS`` means the day's quota is spent:
        fail now (state stands at the last complete day) rather than wait for hours."""
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            wait = retry_after_seconds(response)
            if wait is not None and wait > MAX_WAIT_SECONDS:
                self.count_request()  # the answer spent quota too
                raise QuotaExhaustedError(_quota_message(self.response_error_message(response), f"the API asks to wait {wait:.0f} s"))
        super().validate_response(response)

    @override
    def count_request(self) -> None:
        super().count_request()
        self.lookups.count_request(self.name)  # the run's total, lookups made by the tap included

    @override
    def gave_up(self, what: str, exc: BaseException) -> FatalAPIError:
        response = getattr(exc, "response", None)
        if response is not None and response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            return QuotaExhaustedError(_quota_message(what, f"still refused after {MAX_TRIES} tries"))
        return super().gave_up(what, exc)

    def answer(self, response: requests.Response) -> t.Any:
        """The ``results`` of an answer; a 200 that is not the documented envelope (a proxy's HTML page, a broken
        or empty body) is never taken for an empty answer: the run fails, naming it."""
        try:
            body = decode_answer(response.content)
        except msgspec.DecodeError:
            snippet = " ".join(response.text[:120].split())
            detail = f"the answer is not JSON ({response.headers.get('Content-Type')}): {snippet!r}"
            raise FatalAPIError(f"{self.describe_request(response.request)} failed: {detail}") from None
        if not isinstance(body, dict) or "results" not in body:
            raise FatalAPIError(
                f"{self.describe_request(response.request)} failed: the answer has no 'results': {api_error_text(response)}"
            )
        return body["results"]

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The ``results``: a list of records, or one record (``organization/get``)."""
        results = self.answer(response)
        yield from results if isinstance(results, list) else [results]

    @override
    def describe_request(self, request: requests.PreparedRequest) -> str:
        """``AdRoll API GET <path> for day MM-DD-YYYY``: never the query string (the apikey), headers or body."""
        url = urlsplit(request.url or "")
        return f"AdRoll API {request.method} {url.path}{_report_day(url.query)}"

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """One line: the request, the status and the API's own message."""
        return f"{self.describe_request(response.request)} failed: {response.status_code} {response.reason}: {api_error_text(response)}"

    @override
    def log_sync_costs(self) -> None:
        super().log_sync_costs()
        if self is list(self.tap.streams.values())[-1]:  # the SDK logs every stream's costs in order: the last ends the run
            self.lookups.log_request_counts(self.logger)


def _report_day(query: str) -> str:
    """`` for day MM-DD-YYYY`` (or a range) when the request is a report request."""
    params = parse_qs(query)
    start, end = params.get("start_date", [None])[-1], params.get("end_date", [None])[-1]
    if not start:
        return ""
    return f" for day {start}" if start == end or not end else f" for days {start}..{end}"


def _quota_message(error: str, why: str) -> str:
    return (
        f"AdRoll request quota exhausted ({why}): {error}. State is emitted up to the last complete "
        f"report day; run the tap again after the quota resets and it resumes there"
    )
