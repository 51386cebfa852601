"""The MediaMath Reporting API base stream: URL, shared authenticator, response checks, retries,
error messages without secrets, and the parsers of both response types (streamed JSON lines, pages)."""

from __future__ import annotations

import dataclasses
import json
import typing as t
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from .cli import api_error_text
from .retries import RetryingStream

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.pagination import BaseAPIPaginator

    from .auth import MediaMathAuthenticator
    from .inflight import RequestPool
    from .lookups import MediaMathLookups

STREAM_CHUNK_BYTES = 64 * 1024
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

# Answers are decoded with msgspec (several times faster than response.json()), fractions as Decimal (exact
# money; msgspec's Singer writer writes Decimals back as numbers).
decode_answer = msgspec.json.Decoder(float_hook=Decimal).decode


class StreamedAnswerError(FatalAPIError):
    """A streamed answer that failed or was cut short after its 200 status."""


class BrokenAnswerError(StreamedAnswerError):
    """The connection broke (reset, cut, read timeout) while an answer's body was being read.

    The stream asks for the window (or page) again, up to ``MAX_TRIES`` times, as it retries a failed request.
    """


@dataclasses.dataclass
class AnswerCount:
    """What an answer announced and what it delivered."""

    announced: int | None = None  # total_items_count (-1: the API could not count)
    received: int = 0
    total_pages: int | None = None


class MediaMathStream(RetryingStream):
    """A stream of the MediaMath Reporting API v2: a dataset queried by POST, answered streamed or in pages."""

    http_method = "POST"

    def __init__(self, tap: Tap, lookups: MediaMathLookups, **kwargs: t.Any) -> None:
        super().__init__(tap, **kwargs)
        self.tap = tap
        self.lookups = lookups

    @property
    @override
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    @override
    def authenticator(self) -> MediaMathAuthenticator:
        return self.lookups.authenticator  # one token for the whole run, shared by every stream

    @property
    @override
    def request_pool(self) -> RequestPool:
        return self.lookups.pool

    @property
    @override
    def timeout(self) -> int:
        return int(self.config["request_timeout"])

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None  # one request, one answer; report streams walk their date windows instead

    @property
    @override
    def requests_session(self) -> requests.Session:
        """A session whose answers arrive unread (``stream=True``), so JSON lines are parsed as they come."""
        session = super().requests_session
        session.stream = True
        return session

    @property
    @override
    def http_headers(self) -> dict:
        return {**super().http_headers, "Content-Type": "application/json", "Accept": "application/json, application/jsonl"}

    # ------------------------------------------------------------------ responses

    @override
    def validate_response(self, response: requests.Response) -> None:
        limits = {name: response.headers[name] for name in RATE_LIMIT_HEADERS if name in response.headers}
        if limits:
            self.logger.debug("MediaMath rate limit: %s", ", ".join(f"{k}={v}" for k, v in limits.items()))
        if response.status_code == HTTPStatus.BAD_REQUEST and "page_size" in (response.text or ""):
            # The two documents disagree on the largest page (the text says 1000, the OpenAPI file 10000).
            why = "the API refused the page_size setting: the text docs say at most 1000, the OpenAPI file 10000"
            msg = f"{self.response_error_message(response)} ({why})"
            raise FatalAPIError(msg)
        super().validate_response(response)

    @override
    def describe_request(self, request: requests.PreparedRequest) -> str:
        """``MediaMath API POST <path> (window START..END, page N)``: never the headers (the token)."""
        return f"MediaMath API {request.method} {urlsplit(request.url or '').path}{_query_window(request.body)}"

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """One line: the request, the status and the API's own error (``error_code: message (request_id)``)."""
        return f"{self.describe_request(response.request)} failed: {response.status_code} {response.reason}: {api_error_text(response)}"

    # ------------------------------------------------------------------ parsing

    def streamed_rows(self, response: requests.Response, count: AnswerCount, where: str) -> t.Iterator[dict]:
        """The data rows of a streamed (JSON lines) answer, read line by line in constant memory.

        The first line is the header (``fields``, ``total_items_count``); ``{"meta": ...}`` lines are skipped;
        an error object ends the stream and fails the run; at the end the rows received must match the header's
        count (unless it is -1, the API could not count).
        """
        try:
            lines = response.iter_lines(chunk_size=STREAM_CHUNK_BYTES)
            for line in lines:
                if not line.strip():
                    continue
                try:
                    obj = decode_answer(line)
                except msgspec.DecodeError:
                    snippet = line[:120].decode("utf-8", "replace")
                    raise StreamedAnswerError(f"{where}: line {count.received + 1} of the stream is not JSON: {snippet!r}") from None
                if not isinstance(obj, dict):
                    raise StreamedAnswerError(f"{where}: a line of the stream is not a JSON object: {str(obj)[:120]!r}")
                if count.announced is None:
                    if "total_items_count" not in obj or "fields" not in obj:
                        if "error_code" in obj:
                            raise StreamedAnswerError(f"{where}: the API answered an error: {format_api_error(obj)}")
                        raise StreamedAnswerError(f"{where}: the stream does not start with a header line: {str(obj)[:120]!r}")
                    count.announced = int(obj["total_items_count"])
                    continue
                if "meta" in obj and len(obj) == 1:
                    continue
                if "error_code" in obj:
                    raise StreamedAnswerError(f"{where}: the stream failed after {count.received} rows: {format_api_error(obj)}")
                count.received += 1
                yield obj
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            raise BrokenAnswerError(
                f"{where}: the connection broke after {count.received} rows of the stream ({type(exc).__name__})"
            ) from None
        finally:
            response.close()
        if count.announced is None:
            raise StreamedAnswerError(f"{where}: the answer was empty (no header line)")
        check_count(count, where)

    def paginated_rows(self, response: requests.Response, count: AnswerCount, where: str) -> list[dict]:
        """The ``results`` of one page, with ``meta`` checked (``items_count`` and ``total_pages``)."""
        try:
            body = decode_answer(response.content)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            raise BrokenAnswerError(f"{where}: the connection broke while the page was read ({type(exc).__name__})") from None
        except msgspec.DecodeError:
            snippet = response.text[:120].replace("\n", " ")
            raise FatalAPIError(f"{where}: the answer is not JSON ({response.headers.get('Content-Type')}): {snippet!r}") from None
        finally:
            response.close()
        if isinstance(body, dict) and "error_code" in body:
            raise FatalAPIError(f"{where}: the API answered an error: {format_api_error(body)}")
        meta = body.get("meta") if isinstance(body, dict) else None
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or not isinstance(results, list):
            raise FatalAPIError(f"{where}: the answer has no meta/results: {str(body)[:120]!r}")
        if meta.get("items_count") is not None and int(meta["items_count"]) != len(results):
            raise FatalAPIError(f"{where}: the page has {len(results)} rows but its meta.items_count says {meta['items_count']}")
        count.announced = int(meta.get("total_items_count", -1)) if meta.get("total_items_count") is not None else -1
        count.total_pages = int(meta.get("total_pages") or 0)
        count.received += len(results)
        return results


def check_count(count: AnswerCount, where: str) -> None:
    """Fail when the rows received are not the rows the API announced (unless it could not count, -1)."""
    if count.announced is None or count.announced < 0:
        return
    if count.received != count.announced:
        raise StreamedAnswerError(
            f"{where}: received {count.received} rows but the API announced total_items_count {count.announced}; the answer was cut short"
        )


def _query_window(body: t.Any) -> str:
    """`` (dataset X, window START..END)`` from a report query body (its window, never its credentials)."""
    if not body:
        return ""
    try:
        query = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(query, dict):
        return ""
    parts = []
    if "start_time" in query:
        parts.append(f"window {query.get('start_time')}..{query.get('end_time') or 'now'}")
    elif "time_window" in query:
        parts.append(f"time_window {query['time_window']}")
    if isinstance(query.get("pagination"), dict):
        parts.append(f"page {query['pagination'].get('page_index')}")
    return f" ({', '.join(parts)})" if parts else ""


def format_api_error(obj: t.Mapping[str, t.Any]) -> str:
    """``error_code: message (request_id ...)`` of the API's error object."""
    text = f"{obj.get('error_code')}: {obj.get('message')}"
    if obj.get("request_id"):
        text += f" (request_id {obj['request_id']})"
    return text
