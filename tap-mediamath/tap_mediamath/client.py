"""The MediaMath Reporting API base stream: URL, shared authenticator, response checks, retries,
error messages without secrets, and the parsers of both response types (streamed JSON lines, pages)."""

from __future__ import annotations

import dataclasses
import json
import random
import typing as t
from decimal import Decimal
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlparse

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._util import utc_now
from singer_sdk.streams import RESTStream

if t.TYPE_CHECKING:
    from tap_mediamath.auth import MediaMathAuthenticator

MAX_TRIES = 6  # one request and five retries: waits of about 1, 2, 4, 8 and 16 s without Retry-After
MAX_WAIT_SECONDS = 120
STREAM_CHUNK_BYTES = 64 * 1024
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

# Numbers with a fraction are kept exact (money): msgspec's Singer writer writes Decimals back as numbers.
_decode_line = msgspec.json.Decoder(float_hook=Decimal).decode


class StreamedAnswerError(FatalAPIError):
    """A streamed answer that failed or was cut short after its 200 status."""


class BrokenAnswerError(StreamedAnswerError):
    """The connection broke (reset, cut, read timeout) while an answer's body was being read.

    The stream asks for the window (or page) again, up to ``MAX_TRIES`` times, as it retries a failed request.
    """


def retry_wait_seconds(attempt: int) -> float:
    """The wait before retry ``attempt`` (1, 2, ...) without ``Retry-After``: up to 1, 2, 4, ... s, with jitter
    so that parallel clients spread out."""
    return min(2.0 ** (attempt - 1), MAX_WAIT_SECONDS) * random.uniform(0.5, 1.0)


@dataclasses.dataclass
class AnswerCount:
    """What an answer announced and what it delivered."""

    announced: int | None = None  # total_items_count (-1: the API could not count)
    received: int = 0
    total_pages: int | None = None


class MediaMathStream(RESTStream):
    """A stream of the MediaMath Reporting API v2."""

    http_method = "POST"

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def authenticator(self) -> MediaMathAuthenticator:
        # One token for the whole run, shared by every stream.
        return self._tap.authenticator  # type: ignore[attr-defined]

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 300))

    @property
    def requests_session(self) -> requests.Session:
        """A session whose answers arrive unread (``stream=True``), so JSON lines are parsed as they come."""
        session = super().requests_session
        session.stream = True
        return session

    @property
    def http_headers(self) -> dict:
        return {**super().http_headers, "Content-Type": "application/json", "Accept": "application/json, application/jsonl"}

    # ------------------------------------------------------------------ responses

    def validate_response(self, response: requests.Response) -> None:
        limits = {name: response.headers[name] for name in RATE_LIMIT_HEADERS if name in response.headers}
        if limits:
            self.logger.debug("MediaMath rate limit: %s", ", ".join(f"{k}={v}" for k, v in limits.items()))
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
            hint = ""
            if status == HTTPStatus.BAD_REQUEST and "page_size" in (response.text or ""):
                hint = " (the API refused the page_size setting: the text docs say at most 1000, the OpenAPI file 10000)"
            raise FatalAPIError(self.response_error_message(response) + hint)

    def response_error_message(self, response: requests.Response) -> str:
        """One line: the request (method, path, dataset, window), the status and the API's own error.

        Never the headers (the token) nor the body of the request beyond its window.
        """
        request = response.request
        return (
            f"MediaMath API {request.method} {urlparse(response.url).path}{describe_request(request.body)} "
            f"failed: {response.status_code} {response.reason}: {api_error_text(response)}"
        )

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
                    obj = _decode_line(line)
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
                    raise StreamedAnswerError(
                        f"{where}: the stream failed after {count.received} rows: {format_api_error(obj)}"
                    )
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
            body = _decode_line(response.content)
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
            raise FatalAPIError(
                f"{where}: the page has {len(results)} rows but its meta.items_count says {meta['items_count']}"
            )
        count.announced = int(meta.get("total_items_count", -1)) if meta.get("total_items_count") is not None else -1
        count.total_pages = int(meta.get("total_pages") or 0)
        count.received += len(results)
        return results

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
                wait = retry_after_seconds(response)
                if wait is None:  # exponential, with jitter so parallel clients spread out
                    wait = retry_wait_seconds(attempt)
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


def check_count(count: AnswerCount, where: str) -> None:
    """Fail when the rows received are not the rows the API announced (unless it could not count, -1)."""
    if count.announced is None or count.announced < 0:
        return
    if count.received != count.announced:
        raise StreamedAnswerError(
            f"{where}: received {count.received} rows but the API announced total_items_count {count.announced}; "
            f"the answer was cut short"
        )


def describe_request(body: bytes | str | None) -> str:
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


def api_error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "")[:300].replace("\n", " ") or "(empty body)"
    if isinstance(body, dict):
        if "error_code" in body:
            return format_api_error(body)
        for key in ("message", "error_description", "error"):
            if body.get(key):
                return str(body[key])
    return json.dumps(body)[:300]


def retry_after_seconds(response: requests.Response | None) -> float | None:
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
