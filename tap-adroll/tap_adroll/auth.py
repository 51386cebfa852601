"""AdRoll authentication: a personal access token, or OAuth 2 with rotating refresh tokens.

- Personal access token (PAT): ``Authorization: Token <PAT>`` and ``?apikey=<client id>`` on every request.
- OAuth 2: ``Authorization: Bearer <access token>``. Access tokens last about 24 h; a new one comes from
  ``POST {api_url}/auth/token`` with ``grant_type=refresh_token``, the client ID (``api_key``) and
  ``client_secret``. Refresh tokens are single-use and rotate: every refresh answers a new refresh token,
  which replaces the old one for the rest of the run and, when ``oauth_token_file`` is set, for the next
  runs too (the file is rewritten atomically, mode 0600, after every refresh).

One authenticator serves every stream of a run (a rotated refresh token must not be used twice).
No token, secret or ``Authorization`` header ever goes into a log line or an error message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import typing as t
from pathlib import Path

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

if t.TYPE_CHECKING:
    from collections.abc import Callable

# Renew this long before the announced expiry (capped at a tenth of the token's life for short-lived tokens).
RENEWAL_MARGIN_SECONDS = 300
TOKEN_REQUEST_TIMEOUT = 60

logger = logging.getLogger("tap-adroll")


class AdRollAuthenticator(APIAuthenticatorBase):
    """Adds the ``apikey`` query parameter; subclasses add the ``Authorization`` header."""

    method = "none"

    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self.auth_params = {"apikey": api_key}

    @property
    def can_refresh(self) -> bool:
        """Whether a rejected credential can be replaced by a new one."""
        return False

    def invalidate(self) -> None:
        """The API rejected the credential: forget it, so the next request fetches a new one."""


class PersonalAccessTokenAuthenticator(AdRollAuthenticator):
    """``Authorization: Token <PAT>`` plus ``?apikey=<client id>``."""

    method = "personal_access_token"

    def __init__(self, *, api_key: str, token: str) -> None:
        super().__init__(api_key=api_key)
        self.auth_headers = {"Authorization": f"Token {token}"}


class OAuthRefreshAuthenticator(AdRollAuthenticator):
    """``Authorization: Bearer``, renewed with single-use, rotating refresh tokens."""

    method = "oauth"

    def __init__(
        self,
        *,
        api_key: str,
        token_endpoint: str,
        access_token: str | None,
        refresh_token: str | None,
        client_secret: str | None,
        token_file: str | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(api_key=api_key)
        self.api_key = api_key
        self.token_endpoint = token_endpoint
        self.client_secret = client_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at: float | None = None  # monotonic; None: unknown (a token from the settings)
        self.token_file = Path(token_file).expanduser() if token_file else None
        self.refreshes = 0
        self._on_request = on_request
        self._session = requests.Session()
        # The settings' refresh token, fingerprinted: a token file written from another one is stale.
        self._origin = _fingerprint(refresh_token)
        self._load_token_file()

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_secret)

    def invalidate(self) -> None:
        if self.can_refresh:
            self.access_token = None

    def is_token_valid(self) -> bool:
        if not self.access_token:
            return False
        if self.expires_at is None:
            return True  # from the settings: used until the API rejects it
        return time.monotonic() < self.expires_at

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self.is_token_valid():
            self.refresh()
        self.auth_headers["Authorization"] = f"Bearer {self.access_token}"
        return super().authenticate_request(request)

    def refresh(self) -> None:
        """Trade the refresh token for a new access token and a new refresh token."""
        if not self.can_refresh:
            msg = (
                "AdRoll OAuth: the access token was rejected or has expired, and it cannot be renewed "
                "without refresh_token and client_secret in the settings"
            )
            raise FatalAPIError(msg)
        logger.info("AdRoll OAuth: requesting a new access token with the refresh token")
        if self._on_request:
            self._on_request()
        try:
            response = self._session.post(
                self.token_endpoint,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.refresh_token,
                    "client_id": self.api_key,
                    "client_secret": self.client_secret,
                },
                timeout=TOKEN_REQUEST_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise RetriableAPIError(f"AdRoll OAuth token endpoint unreachable: {type(exc).__name__}") from None
        path = requests.utils.urlparse(self.token_endpoint).path
        if response.status_code == 429 or response.status_code >= 500:
            raise RetriableAPIError(f"AdRoll OAuth POST {path} failed: {response.status_code} {response.reason}", response)
        if response.status_code != 200:
            reason = _oauth_message(response)
            if "invalid_client" in reason:
                hint = "check api_key (the client ID) and client_secret"
            else:
                hint = (
                    "refresh tokens are single-use: if an earlier run used this one, authorize again and update "
                    "refresh_token (set oauth_token_file to keep rotated tokens between runs)"
                )
            msg = f"AdRoll OAuth POST {path} refused the refresh: {response.status_code} {response.reason}: {reason}; {hint}"
            raise FatalAPIError(msg)
        try:
            body = response.json()
            access, refresh = body["access_token"], body.get("refresh_token")
        except (ValueError, KeyError, TypeError):
            raise FatalAPIError(f"AdRoll OAuth POST {path}: the answer has no access_token") from None
        self.access_token = access
        if refresh:
            self.refresh_token = refresh  # rotation: the old one is spent
        expires_in = body.get("expires_in")
        if expires_in:
            life = float(expires_in)
            self.expires_at = time.monotonic() + life - min(RENEWAL_MARGIN_SECONDS, life / 10)
        else:
            self.expires_at = None
        self.refreshes += 1
        self._save_token_file()
        if refresh and not self.token_file and self.refreshes == 1:
            logger.warning(
                "AdRoll OAuth: the refresh token rotated, so the refresh_token in the settings is now spent; "
                "set oauth_token_file to keep the new one for the next run"
            )

    # ------------------------------------------------------------------ token file

    def _load_token_file(self) -> None:
        if not self.token_file or not self.token_file.exists():
            return
        try:
            saved = json.loads(self.token_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("AdRoll OAuth: oauth_token_file is unreadable, using the tokens from the settings")
            return
        if saved.get("origin") != self._origin:
            logger.info("AdRoll OAuth: oauth_token_file was written for another refresh_token setting; ignoring it")
            return
        self.access_token = saved.get("access_token") or None
        self.refresh_token = saved.get("refresh_token") or self.refresh_token
        remaining = float(saved.get("expires_at") or 0) - time.time()
        self.expires_at = time.monotonic() + remaining if saved.get("expires_at") else None
        logger.info("AdRoll OAuth: using the tokens kept in oauth_token_file")

    def _save_token_file(self) -> None:
        if not self.token_file:
            return
        content = {
            "origin": self._origin,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": None if self.expires_at is None else time.time() + (self.expires_at - time.monotonic()),
        }
        self.token_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.token_file.parent, prefix=".adroll-tokens-")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(content, out)
            os.replace(temporary, self.token_file)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise


def _fingerprint(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else None


def _oauth_message(response: requests.Response) -> str:
    """The token endpoint's own error words (``error``, ``error_description``); never the request."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no details"
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "error_description") if body.get(k)]
        if not parts and body.get("errors"):
            parts = [str(e) for e in body["errors"]]
        if parts:
            return ": ".join(parts)[:300]
    return "no details"
