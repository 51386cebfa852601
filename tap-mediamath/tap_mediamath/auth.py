"""MediaMath authentication: the Auth0 password grant, a Bearer JWT renewed before it expires."""

from __future__ import annotations

import datetime as dt

from singer_sdk.authenticators import OAuthAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

# Renew this long before the token's announced expiry (capped at a tenth of its life for short-lived tokens).
RENEWAL_MARGIN_SECONDS = 600


class MediaMathAuthenticator(OAuthAuthenticator):
    """Bearer tokens from ``auth_url`` (``grant_type=password`` with the ``audience``).

    Tokens last about 24 hours; one token serves every stream of a run. The request body carries the
    password and client secret, so neither the body nor the token is ever logged.
    """

    def __init__(self, *, auth_url: str, audience: str, client_id: str, client_secret: str,
                 username: str, password: str) -> None:
        super().__init__(auth_endpoint=auth_url, default_expiration=86400)
        self._grant = {
            "grant_type": "password",
            "username": username,
            "password": password,
            "client_id": client_id,
            "client_secret": client_secret,
            "audience": audience,
        }

    @property
    def oauth_request_body(self) -> dict:
        return dict(self._grant)

    def is_token_valid(self) -> bool:
        if self.last_refreshed is None or self.access_token is None:
            return False
        if not self.expires_in:
            return True
        margin = min(RENEWAL_MARGIN_SECONDS, self.expires_in / 10)
        age = (dt.datetime.now(dt.timezone.utc) - self.last_refreshed).total_seconds()
        return age < self.expires_in - margin

    def invalidate(self) -> None:
        """Forget the token (the API rejected it): the next request fetches a new one."""
        self.access_token = None
        self.last_refreshed = None

    def handle_error(self, *, content: str, status_code: int | None) -> None:
        """Fail in one line; the token endpoint's answer never echoes the credentials."""
        if status_code in (400, 401, 403):
            msg = (
                f"MediaMath refused the credentials ({status_code} from the token endpoint {self.auth_endpoint}; "
                f"check client_id, client_secret, username, password and audience): {content[:300]}"
            )
            raise FatalAPIError(msg)
        raise RetriableAPIError(f"MediaMath token endpoint {self.auth_endpoint} answered {status_code}")
