"""The OpenID Connect provider class allauth uses (settings.SOCIALACCOUNT_PROVIDERS names
it): allauth's own, plus a nonce in every authorization request."""

import secrets
from typing import Any

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest, HttpResponse

from chat.sso.verification import NONCE_STATE_KEY, SsoOAuth2Adapter


class SsoProvider(OpenIDConnectProvider):
    oauth2_adapter_class = SsoOAuth2Adapter

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        # A fresh nonce per sign-in: the ID token must carry it back (checked in
        # SsoOAuth2Adapter), so a token minted for another sign-in is refused.
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        auth_params["nonce"] = nonce
        response: HttpResponse = super().redirect(
            request,
            process,
            next_url,
            data,
            auth_params=auth_params,
            **{NONCE_STATE_KEY: nonce},
            **kwargs,
        )
        return response
