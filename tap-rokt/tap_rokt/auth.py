"""Rokt OAuth 2.0 client-credentials authentication (App ID and App Secret over HTTP Basic)."""

from __future__ import annotations

import base64
import datetime as dt

from singer_sdk.authenticators import OAuthAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

# Renew this long before the token's announced expiry (capped at a tenth of its life for short-lived tokens).
RENEWAL_MARGIN_SECONDS = 300


class RoktAuthenticator(OAuthAuthenticator):
    """Bearer tokens from ``{api_url}/auth/oauth2/token``, renewed before they expire.

    Tokens last an hour; one token serves every stream of a run.
    """

    def __init__(self, *, app_id: str, app_secret: str, auth_endpoint: str) -> None:
        basic = base64.b64encode(f"{app_id}:{app_secret}".encode()).decode()
        super().__init__(
            auth_endpoint=auth_endpoint,
            oauth_headers={"Authorization": f"Basic {basic}"},
            default_expiration=3600,
        )

    @property
    def oauth_request_body(self) -> dict:
        return {"grant_type": "client_credentials"}

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
        """Fail in one line; the token endpoint's answer never carries the credentials."""
        if status_code in (400, 401, 403):
            msg = (
                f"Rokt refused the app_id/app_secret ({status_code} from the token endpoint "
                f"{self.auth_endpoint}): {content[:300]}"
            )
            raise FatalAPIError(msg)
        # Busy or failing token endpoint: retried with the same backoff as any request.
        raise RetriableAPIError(f"Rokt token endpoint {self.auth_endpoint} answered {status_code}")
