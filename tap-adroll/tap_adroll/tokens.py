"""OAuth tokens shared by the three taps: the SDK's OAuthAuthenticator, renewed before expiry and retried.

What the SDK's authenticator leaves to the tap, done once here:
- a safety margin: a token is renewed ``renewal_margin_seconds`` before its announced expiry (at most a tenth
  of its life), so no request goes out with a token about to lapse;
- the token request itself (``update_access_token``): the SDK asks for a first token while a request is being
  prepared, outside the request retries, and its token session silently retries a refused connection for about
  100 s while never retrying a 429 or 5xx. Here the token endpoint gets the streams' retry policy (429, 5xx,
  network failures; ``Retry-After``; at most ``MAX_TRIES`` tries) and fails in one line, without the request
  body (it carries the credentials);
- a rotated ``refresh_token`` in the answer replaces the old one (single-use refresh tokens);
- a 401 from the API renews the token once (``renew_after_rejection``), a second one in a row is fatal;
- requests in flight share one renewal: the first request to find the token due renews it under a lock, the
  others wait and use the new token; a 401 of a request sent with a token already replaced just retries.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import typing as t
from decimal import Decimal
from urllib.parse import urlsplit

import backoff
import msgspec
import requests
from singer_sdk.authenticators import OAuthAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from .cli import network_reason
from .retries import MAX_TRIES, GaveUpError, wait_before_retry

TOKEN_REQUEST_TIMEOUT = 60
_decode = msgspec.json.Decoder(float_hook=Decimal).decode


class RenewingOAuthAuthenticator(OAuthAuthenticator):
    """Bearer tokens from a token endpoint, renewed before they expire; subclasses say how to ask."""

    #: Who issues the tokens, for messages ("Rokt", ...).
    provider: t.ClassVar[str] = "the API"
    #: What to check when the token endpoint refuses the credentials.
    credentials_hint: t.ClassVar[str] = "check the credentials"
    renewal_margin_seconds: t.ClassVar[float] = 300.0

    def __init__(self, *, auth_endpoint: str, default_expiration: int, token_headers: dict[str, str] | None = None) -> None:
        super().__init__(auth_endpoint=auth_endpoint, default_expiration=default_expiration)
        self.default_expiration = default_expiration
        self.token_headers = dict(token_headers or {})
        self.token_session = requests.Session()  # honours HTTPS_PROXY / NO_PROXY like every request
        self._renewed_since_accepted = False
        self.token_requests = 0  # every try, for the run's request count
        self._renewal = threading.RLock()  # one renewal for every request in flight that needs it
        self._rejected: str | None = None  # the Authorization header of the last token rejected
        self._failure: FatalAPIError | None = None  # the token endpoint's last word, once it failed for good

    # ------------------------------------------------------------------ validity

    @override
    def is_token_valid(self) -> bool:
        if self.access_token is None:
            return False
        if self.last_refreshed is None or not self.expires_in:
            return True  # a token given in the settings, or one without an announced expiry: used until a 401
        margin = min(self.renewal_margin_seconds, self.expires_in / 10)
        age = (dt.datetime.now(dt.UTC) - self.last_refreshed).total_seconds()
        return age < self.expires_in - margin

    def cannot_renew(self) -> str | None:
        """Why a rejected token cannot be replaced, when it cannot (providers with optional refresh say so)."""
        return None

    def renew_after_rejection(self, rejected: str | None) -> str | None:
        why = self.cannot_renew()
        if why:
            return why
        with self._renewal:
            if rejected and (rejected == self._rejected or (self.access_token and rejected != f"Bearer {self.access_token}")):
                return None  # a token already rejected and replaced (or being replaced): the retry takes the new one
            if self._renewed_since_accepted:
                return "rejected again after renewing the token"
            self._renewed_since_accepted = True
            self._rejected = rejected
            self.access_token = None  # the next request asks for a new one
        return None

    def note_accepted(self) -> None:
        self._renewed_since_accepted = False

    # ------------------------------------------------------------------ the token request

    @override
    def update_access_token(self) -> None:
        with self._renewal:
            if self._failure is not None:
                raise self._failure  # the token endpoint already failed for good: no request asks it again
            if not self.is_token_valid():  # not renewed by another request meanwhile
                try:
                    self.request_access_token()
                except FatalAPIError as failure:
                    self._failure = failure
                    raise

    def request_access_token(self) -> None:
        """Ask the token endpoint for a new token, with the streams' retry policy."""
        self.logger.info("%s: requesting a new access token", self.provider)
        requested_at = dt.datetime.now(dt.UTC)
        attempts = itertools.count(1)

        @backoff.on_exception(
            backoff.runtime,
            (RetriableAPIError, requests.exceptions.ConnectionError, requests.exceptions.Timeout),
            max_tries=MAX_TRIES,
            jitter=None,
            on_backoff=self._log_retry,
            logger=None,
            value=lambda exception: wait_before_retry(exception, next(attempts)),
        )
        def ask() -> dict:
            self.token_requests += 1
            response = self.token_session.post(
                self.auth_endpoint, headers=self.token_headers, data=self.oauth_request_payload, timeout=TOKEN_REQUEST_TIMEOUT
            )
            if response.status_code == 429 or response.status_code >= 500:
                msg = f"{self.provider} token endpoint {self._where()} failed: {self._refusal(response)}"
                raise RetriableAPIError(msg, response)
            if response.status_code != 200:
                refusal = self._refusal(response)
                msg = f"{self.provider} token endpoint {self._where()} refused the credentials ({refusal}); {self.credentials_hint}"
                raise FatalAPIError(msg)
            try:
                body = _decode(response.content)
                body["access_token"]
            except (msgspec.DecodeError, KeyError, TypeError):
                msg = f"{self.provider} token endpoint {self._where()}: the answer has no access_token"
                raise FatalAPIError(msg) from None
            return t.cast("dict", body)

        try:
            body = ask()
        except RetriableAPIError as exc:
            raise GaveUpError(f"{exc} (gave up after {MAX_TRIES} tries)") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            msg = f"{self.provider} token endpoint {self._where()} failed: {network_reason(exc)} (gave up after {MAX_TRIES} tries)"
            raise GaveUpError(msg) from None
        self.access_token = str(body["access_token"])
        expires_in = body.get("expires_in", self.default_expiration)
        self.expires_in = int(expires_in) if expires_in else None
        self.last_refreshed = requested_at
        self.refresh_token = body.get("refresh_token") or self.refresh_token  # single-use tokens rotate
        self.token_answered(body)

    def token_answered(self, body: dict) -> None:
        """A new token arrived (providers that keep tokens between runs override this)."""

    def _where(self) -> str:
        url = urlsplit(self.auth_endpoint)
        return f"POST {url.scheme}://{url.netloc}{url.path}"

    def _refusal(self, response: requests.Response) -> str:
        """The status and the token endpoint's own words (``error``, ``error_description``), never the request."""
        try:
            body = _decode(response.content)
        except msgspec.DecodeError:
            body = None
        words = [str(body[key]) for key in ("error", "error_description", "message") if isinstance(body, dict) and body.get(key)]
        detail = ": ".join(words)[:300] or response.reason or "no details"
        return f"{response.status_code} {detail}"

    def _log_retry(self, details: t.Mapping[str, t.Any]) -> None:
        exception = details.get("exception")
        reason = exception if isinstance(exception, RetriableAPIError) else network_reason(exception)
        self.logger.warning(
            "Retrying the token request after try %d of %d (waiting %.1f s): %s",
            details.get("tries"),
            MAX_TRIES,
            details.get("wait") or 0.0,
            reason,
        )
