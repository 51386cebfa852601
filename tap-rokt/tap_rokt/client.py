"""The Rokt Query API base stream: URL, shared authenticator, answers decoded and checked, error lines."""

from __future__ import annotations

import json
import typing as t
from decimal import Decimal
from urllib.parse import urlsplit

import msgspec
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from .cli import api_error_text
from .isolation import SET_ASIDE, SetAside
from .retries import RetryingStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk import Tap
    from singer_sdk.pagination import BaseAPIPaginator

    from .auth import RoktAuthenticator
    from .inflight import RequestPool
    from .lookups import RoktLookups

# Answers are decoded with msgspec (several times faster than response.json()), fractions as Decimal.
decode_answer = msgspec.json.Decoder(float_hook=Decimal).decode


class RoktStream(RetryingStream):
    """A stream of the Rokt Query API: one request, one answer (no pagination)."""

    def __init__(self, tap: Tap, lookups: RoktLookups, **kwargs: t.Any) -> None:
        super().__init__(tap, **kwargs)
        self.lookups = lookups

    @property
    @override
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    @override
    def authenticator(self) -> RoktAuthenticator:
        return self.lookups.authenticator  # one token for the whole run, shared by every stream

    @property
    @override
    def request_pool(self) -> RequestPool:
        return self.lookups.pool

    def set_aside(self, account_id: str, refusal: FatalAPIError) -> None:
        """The API refused this account (isolation.py): the stream goes on without it."""
        SET_ASIDE.add(SetAside(self.name, f"account {account_id}", str(refusal), "account_ids"), self.logger)

    @property
    @override
    def timeout(self) -> int:
        return int(self.config["request_timeout"])

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None  # one request, one answer; report streams walk their date windows instead

    def answer(self, response: requests.Response) -> t.Any:
        """The decoded answer; a 200 that is not JSON (a proxy's page, a cut body) fails the run."""
        try:
            return decode_answer(response.content)
        except msgspec.DecodeError:
            snippet = " ".join(response.text[:120].split())
            msg = f"{self.describe_request(response.request)}: the answer is not JSON ({response.headers.get('Content-Type')}): {snippet!r}"
            raise FatalAPIError(msg) from None

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = self.answer(response)
        if not isinstance(body, list):
            raise FatalAPIError(f"{self.describe_request(response.request)}: the answer is not a list: {str(body)[:120]!r}")
        yield from body

    @override
    def describe_request(self, request: requests.PreparedRequest) -> str:
        """``Rokt API POST <path> for window START..END``: never the headers (the token) or the query."""
        return f"Rokt API {request.method} {urlsplit(request.url or '').path}{_report_window(request.body)}"

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """One line: the request, the status and the API's own message."""
        return f"{self.describe_request(response.request)} failed: {response.status_code} {response.reason}: {api_error_text(response)}"


def _report_window(body: t.Any) -> str:
    """`` for window START..END (end exclusive)`` when the request body is a report query."""
    try:
        query = json.loads(body or b"null")
    except ValueError:
        return ""
    if isinstance(query, dict) and "startDate" in query:
        return f" for window {query.get('startDate')}..{query.get('endDate')} (end exclusive)"
    return ""
