"""Rokt OAuth 2.0 client credentials: App ID and App Secret over HTTP Basic, a Bearer token for an hour."""

from __future__ import annotations

import base64

from typing_extensions import override

from .tokens import RenewingOAuthAuthenticator


class RoktAuthenticator(RenewingOAuthAuthenticator):
    """Bearer tokens from ``{api_url}/auth/oauth2/token``; one token serves every stream of a run."""

    provider = "Rokt"
    credentials_hint = "check app_id and app_secret"
    renewal_margin_seconds = 300.0

    def __init__(self, *, app_id: str, app_secret: str, auth_endpoint: str) -> None:
        basic = base64.b64encode(f"{app_id}:{app_secret}".encode()).decode()
        super().__init__(auth_endpoint=auth_endpoint, default_expiration=3600, token_headers={"Authorization": f"Basic {basic}"})

    @property
    @override
    def oauth_request_body(self) -> dict:
        return {"grant_type": "client_credentials"}
