"""The OpenID Connect provider the SSO tests sign in through is a real one on loopback:
it publishes its configuration and keys, and asks its user to log in, with PKCE."""

import base64
import hashlib
import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import OidcProvider

CLIENT = {
    "client_id": "chatsite",
    "client_secret": "tests-only-client-secret",
    "redirect_uris": ["http://127.0.0.1:9/accounts/oidc/test/login/callback/"],
}
USERS = {"ada": {"email": "ada@example.org", "email_verified": True, "groups": ["research"]}}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    server = OidcProvider(clients=[CLIENT], users=USERS, directory=tmp_path_factory.mktemp("op"))
    yield server
    server.stop()


def test_it_publishes_its_configuration_and_signing_keys(provider):
    config = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert config["issuer"] == provider.issuer
    assert "S256" in config["code_challenge_methods_supported"]
    assert {"email", "groups"} <= set(config["claims_supported"])
    keys = httpx.get(config["jwks_uri"]).json()["keys"]
    assert keys
    assert all(key["kty"] in {"RSA", "EC", "OKP"} for key in keys)


def test_an_authorization_request_with_pkce_asks_the_user_to_log_in(provider):
    config = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "client_id": CLIENT["client_id"],
        "redirect_uri": CLIENT["redirect_uris"][0],
        "response_type": "code",
        "scope": "openid email groups",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    with httpx.Client(follow_redirects=True) as client:
        page = client.get(config["authorization_endpoint"], params=params)
    assert page.status_code == 200
    assert 'name="login"' in page.text
    assert 'name="password"' in page.text


def test_an_authorization_request_without_pkce_is_refused(provider):
    config = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    params = {
        "client_id": CLIENT["client_id"],
        "redirect_uri": CLIENT["redirect_uris"][0],
        "response_type": "code",
        "scope": "openid",
        "state": "s",
    }
    refused = httpx.get(config["authorization_endpoint"], params=params)
    assert refused.status_code in (302, 303, 400)
    assert "error=invalid_request" in refused.headers.get("location", "") or (
        "invalid_request" in refused.text
    )
