"""The callback's own checks of the ID token (unit tests: the token's decoding is
replaced; tests/browser/test_sso.py checks signature and expiry against a real
provider): the nonce must be this sign-in's, and userinfo must be about the ID token's
subject."""

from typing import Any

import pytest
from allauth.socialaccount.providers.oauth2.client import OAuth2Error

from chat.sso import verification
from chat.sso.verification import SsoOAuth2Adapter


class App:
    client_id = "chatsite"


@pytest.fixture
def adapter(monkeypatch, rf) -> SsoOAuth2Adapter:
    adapter = SsoOAuth2Adapter(rf.get("/"), "corp")
    adapter._openid_config = {"jwks_uri": "https://idp/jwks", "issuer": "https://idp"}
    return adapter


def decoded_as(monkeypatch, claims: dict[str, Any]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def decode(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return claims

    monkeypatch.setattr(verification.jwtkit, "verify_and_decode", decode)
    return calls


def test_the_signature_is_checked_and_this_sign_in_s_nonce_accepted(adapter, monkeypatch):
    calls = decoded_as(monkeypatch, {"sub": "ada", "nonce": "n-1"})
    adapter.expected_nonce = "n-1"
    adapter.did_fetch_access_token = True  # allauth would skip the signature now

    assert adapter._decode_id_token(App(), "token")["sub"] == "ada"
    assert calls[0]["verify_signature"] is True


@pytest.mark.parametrize(
    ("sent", "expected"),
    [("n-2", "n-1"), (None, "n-1"), ("n-1", None)],
    ids=["another sign-in's", "none in the token", "no sign-in waiting"],
)
def test_a_nonce_that_is_not_this_sign_in_s_is_refused(adapter, monkeypatch, sent, expected):
    decoded_as(monkeypatch, {"sub": "ada", **({"nonce": sent} if sent else {})})
    adapter.expected_nonce = expected
    with pytest.raises(OAuth2Error, match="nonce"):
        adapter._decode_id_token(App(), "token")


def test_a_token_allauth_s_checks_do_not_expect_is_refused_not_a_500(adapter, monkeypatch):
    def decode(**kwargs: Any) -> dict[str, Any]:
        raise KeyError("kid")  # a token without a key id

    monkeypatch.setattr(verification.jwtkit, "verify_and_decode", decode)
    adapter.expected_nonce = "n-1"
    with pytest.raises(OAuth2Error, match="could not be checked"):
        adapter._decode_id_token(App(), "token")
