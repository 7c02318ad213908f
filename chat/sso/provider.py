"""The OpenID Connect provider class allauth uses (settings.SOCIALACCOUNT_PROVIDERS names
it): allauth's own, plus a nonce in every authorization request."""

import secrets
from typing import Any

from allauth.account.utils import get_next_redirect_url
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest, HttpResponse

from chat.sso.verification import NONCE_STATE_KEY, SsoOAuth2Adapter


class SsoProvider(OpenIDConnectProvider):
    oauth2_adapter_class = SsoOAuth2Adapter

    def get_redirect_from_request_kwargs(self, request: HttpRequest) -> dict[str, Any]:
        """Only where to go afterwards comes from the request (allauth checks that it is
        this site). The rest is the site's: always a sign-in (allauth's "connect"
        process leads to pages chatsite does not have), with the scopes and parameters
        the provider is configured with, never ones a request adds."""
        kwargs: dict[str, Any] = {"process": AuthProcess.LOGIN}
        next_url = get_next_redirect_url(request)
        if next_url:
            kwargs["next_url"] = next_url
        return kwargs

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
