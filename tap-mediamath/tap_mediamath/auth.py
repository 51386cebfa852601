"""MediaMath authentication: the Auth0 password grant, a Bearer JWT (about 24 h) renewed before it expires."""

from __future__ import annotations

from typing_extensions import override

from .tokens import RenewingOAuthAuthenticator


class MediaMathAuthenticator(RenewingOAuthAuthenticator):
    """Bearer tokens from ``auth_url`` (``grant_type=password`` with the ``audience``); one serves every stream.

    The token request's body carries the password and the client secret: it is never logged.
    """

    provider = "MediaMath"
    credentials_hint = "check client_id, client_secret, username, password and audience"
    renewal_margin_seconds = 600.0

    def __init__(self, *, auth_url: str, audience: str, client_id: str, client_secret: str, username: str, password: str) -> None:
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
    @override
    def oauth_request_body(self) -> dict:
        return dict(self._grant)
