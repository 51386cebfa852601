"""The command line: every failure a user can cause or meet ends in one log line, never a traceback.

The SDK's command installs its one-line exception hook only once the command runs, after the option callbacks
``--discover`` and ``--test`` have already done their work: a failure there printed a traceback. Here the
known failures are caught around the whole command. The SDK and the backoff library also add lines of their
own to a failure (backoff's "Backing off"/"Giving up", the SDK's "An unhandled error occurred while syncing")
whose content the tap's own message already states in full: those lines are dropped, so a failure reads as
one line.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import logging
import sys
import typing as t
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.plugin_base import SingerCommand
from typing_extensions import override

from .isolation import SET_ASIDE

if t.TYPE_CHECKING:
    import click

#: Failures whose message is written for users: API answers, network failures, settings found bad late
#: (an unknown account id, an unknown report field).
EXPECTED_FAILURES = (FatalAPIError, RetriableAPIError, requests.RequestException, ConnectionError, ConfigValidationError)

#: The log lines of the SDK and of backoff that repeat what the tap's own failure line says.
REPEATED_LINES = ("Backing off %s(...)", "Giving up %s(...)", "An unhandled error occurred while syncing '%s'")


def failure_line(exc: BaseException) -> str:
    """One line for a known failure: its message, or for a network failure where it happened (no query)."""
    if isinstance(exc, ConfigValidationError):
        return "; ".join(exc.errors) if exc.errors else str(exc)
    if isinstance(exc, requests.RequestException) and exc.request is not None:
        method, url = exc.request.method, urlsplit(str(exc.request.url or ""))
        verb = method.decode() if isinstance(method, bytes) else str(method)
        return f"{verb} {url.scheme}://{url.netloc}{url.path} failed: {network_reason(exc)}"
    return " ".join(str(exc).split()) or type(exc).__name__


def network_reason(exc: BaseException | None) -> str:
    """Why a request got no answer, in a few words (requests' own text repeats the URL and the query)."""
    reasons = {
        requests.exceptions.ProxyError: "the proxy refused the connection",
        requests.exceptions.SSLError: "TLS handshake failed",
        requests.exceptions.ConnectTimeout: "connecting timed out",
        requests.exceptions.ReadTimeout: "no answer within the request timeout",
        requests.exceptions.ChunkedEncodingError: "the connection broke during the answer",
        requests.exceptions.ConnectionError: "the host cannot be reached",
    }
    for kind, reason in reasons.items():
        if isinstance(exc, kind):
            return f"{reason} ({type(exc).__name__})"
    return type(exc).__name__ if exc is not None else "no answer"


class RepeatedLinesFilter(logging.Filter):
    """Drops the SDK's and backoff's lines that a known failure's own line already says."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not record.msg.startswith(REPEATED_LINES):
            return True
        if record.msg.startswith(REPEATED_LINES[2]):  # the SDK's line, logged while the failure is handled
            return not isinstance(sys.exc_info()[1], EXPECTED_FAILURES)
        return False


REPEATED_LINES_FILTER = RepeatedLinesFilter()


class OneLineErrorCommand(SingerCommand):
    """The SDK's tap command, ending every known failure in one log line and exit code 1."""

    @classmethod
    def from_command(cls, command: click.Command, logger: logging.Logger) -> OneLineErrorCommand:
        """The same command (options, callback, help) with this class's failure handling."""
        return cls(
            name=command.name,
            callback=command.callback,
            params=command.params,
            help=command.help,
            context_settings=command.context_settings,
            logger=logger,
        )

    @override
    def invoke(self, ctx: click.Context) -> t.Any:
        """The command's work; a sync that set partitions aside ends in one line listing them, and exit code 1."""
        result = super().invoke(ctx)
        failure = SET_ASIDE.failure()
        if failure is not None:
            raise failure
        return result

    @override
    def main(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return super().main(*args, **kwargs)
        except EXPECTED_FAILURES as exc:
            self.logger.error("%s", failure_line(exc))
            sys.exit(1)


def api_error_text(response: requests.Response) -> str:
    """The API's own words about a failed request, from the documented error shapes of the three APIs:
    ``{"errors": [...]}``, ``{"error_code", "message", "request_id"}``, ``message``, ``error_description``."""
    try:
        body = response.json()
    except ValueError:
        return " ".join((response.text or "")[:300].split()) or "(empty body)"
    if isinstance(body, dict):
        if body.get("error_code"):
            text = f"{body['error_code']}: {body.get('message')}"
            return text + (f" (request_id {body['request_id']})" if body.get("request_id") else "")
        errors = body.get("errors")
        if errors:
            items = errors if isinstance(errors, list) else [errors]
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in items)[:500]
        for key in ("message", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:500]
    return str(body)[:300]
