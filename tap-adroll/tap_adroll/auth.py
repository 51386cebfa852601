"""AdRoll authentication: a personal access token, or OAuth 2 with rotating refresh tokens.

- Personal access token (PAT): ``Authorization: Token <PAT>`` and ``?apikey=<client id>`` on every request.
- OAuth 2: ``Authorization: Bearer <access token>`` and the same ``apikey``. Access tokens last about 24 h; a
  new one comes from ``POST {api_url}/auth/token`` with ``grant_type=refresh_token``, the client ID
  (``api_key``) and ``client_secret``. Refresh tokens are single-use and rotate: every refresh answers a new
  one, which replaces the old one for the rest of the run and, with ``oauth_token_file``, for later runs.

Several processes may share one ``oauth_token_file`` (shards of one organization, run at once): each refresh
happens under an exclusive lock on ``<oauth_token_file>.lock``, after reading the file again, so a process
uses a token another one has just rotated instead of spending the old refresh token a second time.

No token, secret or ``Authorization`` header ever goes into a log line or an error message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
import typing as t
from pathlib import Path

from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from .tokens import RenewingOAuthAuthenticator

if t.TYPE_CHECKING:
    from collections.abc import Iterator


class PersonalAccessTokenAuthenticator(APIAuthenticatorBase):
    """``Authorization: Token <PAT>`` plus ``?apikey=<client id>``; a rejected PAT cannot be renewed."""

    def __init__(self, *, api_key: str, token: str) -> None:
        super().__init__()
        self.auth_params = {"apikey": api_key}
        self.auth_headers = {"Authorization": f"Token {token}"}

    def renew_after_rejection(self, rejected: str | None) -> str | None:
        return "check personal_access_token and api_key"

    def note_accepted(self) -> None:
        """Nothing to reset: a personal access token is never renewed."""


class AdRollOAuthAuthenticator(RenewingOAuthAuthenticator):
    """``Authorization: Bearer``, renewed with single-use, rotating refresh tokens."""

    provider = "AdRoll OAuth"
    credentials_hint = (
        "check api_key (the client ID) and client_secret; refresh tokens are single-use: if an earlier run used this "
        "one, authorize again and update refresh_token (set oauth_token_file to keep rotated tokens between runs)"
    )
    renewal_margin_seconds = 300.0

    def __init__(
        self,
        *,
        api_key: str,
        token_endpoint: str,
        access_token: str | None,
        refresh_token: str | None,
        client_secret: str | None,
        token_file: str | None = None,
    ) -> None:
        super().__init__(auth_endpoint=token_endpoint, default_expiration=86400)
        self.auth_params = {"apikey": api_key}
        self.api_key = api_key
        self.oauth_client_secret = client_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.token_file = Path(token_file).expanduser() if token_file else None
        self.refreshes = 0
        # The settings' refresh token, fingerprinted: a token file written from another one is stale.
        self._origin = _fingerprint(refresh_token)
        self._adopt(self._read_token_file(), announce=True)

    @property
    @override
    def oauth_request_body(self) -> dict:
        return {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.api_key,
            "client_secret": self.oauth_client_secret,
        }

    def cannot_renew(self) -> str | None:
        if self.refresh_token and self.oauth_client_secret:
            return None
        return "the access token was rejected and cannot be renewed: set refresh_token and client_secret"

    @override
    def update_access_token(self) -> None:
        """A new access token: one another process sharing the token file rotated meanwhile, or a refresh."""
        why = self.cannot_renew()
        if why:
            raise FatalAPIError(f"AdRoll OAuth: {why}")
        with self._token_file_lock():
            saved = self._read_token_file()
            if saved and saved.get("refresh_token") != self.refresh_token:
                self._adopt(saved)  # another process refreshed since this one last read the file
                if self.is_token_valid():
                    self.logger.info("AdRoll OAuth: using the token another run rotated into oauth_token_file")
                    return
            super().update_access_token()

    def token_answered(self, body: dict) -> None:
        self.refreshes += 1
        self._save_token_file()
        if body.get("refresh_token") and not self.token_file and self.refreshes == 1:
            self.logger.warning(
                "AdRoll OAuth: the refresh token rotated, so the refresh_token in the settings is now spent; "
                "set oauth_token_file to keep the new one for the next run"
            )

    # ------------------------------------------------------------------ the token file

    @contextlib.contextmanager
    def _token_file_lock(self) -> Iterator[None]:
        if not self.token_file:
            yield
            return
        self.token_file.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.token_file}.lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_token_file(self) -> dict | None:
        if not self.token_file or not self.token_file.exists():
            return None
        try:
            saved = json.loads(self.token_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.logger.warning("AdRoll OAuth: oauth_token_file is unreadable, using the tokens from the settings")
            return None
        if not isinstance(saved, dict) or saved.get("origin") != self._origin:
            self.logger.info("AdRoll OAuth: oauth_token_file was written for another refresh_token setting; ignoring it")
            return None
        return saved

    def _adopt(self, saved: dict | None, *, announce: bool = False) -> None:
        if not saved:
            return
        self.access_token = saved.get("access_token") or None
        self.refresh_token = saved.get("refresh_token") or self.refresh_token
        refreshed_at = saved.get("refreshed_at")
        self.last_refreshed = dt.datetime.fromtimestamp(refreshed_at, dt.UTC) if refreshed_at else None
        self.expires_in = saved.get("expires_in")
        if announce:
            self.logger.info("AdRoll OAuth: using the tokens kept in oauth_token_file")

    def _save_token_file(self) -> None:
        """Rewrite the token file atomically, mode 0600 (the caller holds the lock)."""
        if not self.token_file:
            return
        content = {
            "origin": self._origin,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "refreshed_at": self.last_refreshed.timestamp() if self.last_refreshed else None,
            "expires_in": self.expires_in,
        }
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
