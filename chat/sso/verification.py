"""The callback's checks of the ID token, on top of allauth's (issuer, audience, expiry,
with PyJWT): the signature against the provider's published keys, always (allauth skips
it in the code flow, trusting TLS to the provider), the nonce of this sign-in, and the
same subject in the ID token and in userinfo."""

import hmac
from typing import Any

from allauth.socialaccount.internal import jwtkit, statekit
from allauth.socialaccount.models import SocialApp, SocialLogin, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest

# Where the nonce waits, in allauth's stashed state (the session), for the callback.
NONCE_STATE_KEY = "nonce"


class SsoOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    # The nonce this sign-in sent (SsoProvider.redirect), read from the stashed state
    # before allauth's callback consumes it; None: no sign-in of this browser is waiting.
    expected_nonce: str | None = None

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ) -> SocialLogin:
        if not kwargs["response"].get("id_token"):
            raise OAuth2Error("The provider sent no ID token.")
        login: SocialLogin = super().complete_login(request, app, token, **kwargs)
        claims = login.account.extra_data
        userinfo, id_token = claims.get("userinfo"), claims["id_token"]
        # OpenID Connect Core 5.3.2: userinfo about anyone else must not be used.
        if userinfo is not None and userinfo.get("sub") != id_token.get("sub"):
            raise OAuth2Error("The userinfo's subject is not the ID token's.")
        return login

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwtkit.verify_and_decode(
                credential=id_token,
                keys_url=self.openid_config["jwks_uri"],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
                verify_signature=True,
            )
        except (KeyError, TypeError, ValueError) as error:
            # A token or key set allauth's checks do not expect (no kid, an algorithm
            # the key cannot do): refused like any token that fails a check.
            raise OAuth2Error("The ID token could not be checked.") from error
        nonce = claims.get("nonce")
        if not (
            self.expected_nonce
            and isinstance(nonce, str)
            and hmac.compare_digest(nonce, self.expected_nonce)
        ):
            raise OAuth2Error("The ID token's nonce is not this sign-in's.")
        return claims


def nonce_stashed(request: HttpRequest) -> str | None:
    """The nonce of the sign-in the callback's `state` names, if this session started it."""
    stashed = statekit.get_states(request).get(request.GET.get("state", ""))
    if not stashed:
        return None
    nonce = stashed[0].get(NONCE_STATE_KEY)
    return nonce if isinstance(nonce, str) else None
