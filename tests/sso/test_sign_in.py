"""The start of a sign-in, against a real provider's discovery: the login page's button
POSTs, and the answer is a page that goes to the provider with state, a nonce and a PKCE
challenge (S256), all kept in the session for the callback. A callback without a
sign-in of this session waiting is refused."""

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.servers import OidcProvider

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    client = {
        "client_id": "chatsite",
        "client_secret": "tests-only-client-secret",
        "redirect_uris": ["http://testserver/accounts/oidc/corp/login/callback/"],
    }
    server = OidcProvider(clients=[client], users={}, directory=tmp_path_factory.mktemp("op"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def corp(settings, provider: OidcProvider) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            **settings.SOCIALACCOUNT_PROVIDERS["openid_connect"],
            "APPS": [
                {
                    "provider_id": "corp",
                    "name": "Corp",
                    "client_id": "chatsite",
                    "secret": "tests-only-client-secret",
                    "settings": {"server_url": provider.issuer},
                }
            ],
        }
    }


def test_the_login_page_has_a_button_per_provider(client: Client):
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/accounts/oidc/corp/login/"' in page
    assert "Sign in with Corp" in page


def test_a_sign_in_goes_to_the_provider_with_state_nonce_and_pkce(
    client: Client, provider: OidcProvider
):
    response = client.post("/accounts/oidc/corp/login/")

    assert response.status_code == 200
    url = html.unescape(re.search(r'content="0;url=([^"]+)"', response.content.decode())[1])
    assert url.startswith(f"{provider.issuer}/auth?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["client_id"] == "chatsite"
    assert query["redirect_uri"] == "http://testserver/accounts/oidc/corp/login/callback/"
    assert query["code_challenge_method"] == "S256"
    assert len(query["nonce"]) >= 32
    ((state, _, _),) = [client.session["socialaccount_states"][query["state"]]]
    assert state["nonce"] == query["nonce"]
    assert "pkce_code_verifier" in state


def test_a_sign_in_cannot_start_with_a_get(client: Client):
    response = client.get("/accounts/oidc/corp/login/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/"


def test_a_request_cannot_choose_the_process_scopes_or_parameters(client: Client):
    response = client.post(
        "/accounts/oidc/corp/login/?process=connect&scope=admin&auth_params=redirect_uri%3Dx",
        {"process": "connect", "next": "/c/1/"},
    )

    url = html.unescape(re.search(r'content="0;url=([^"]+)"', response.content.decode())[1])
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["redirect_uri"] == "http://testserver/accounts/oidc/corp/login/callback/"
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    ((state, _, _),) = [client.session["socialaccount_states"][query["state"]]]
    assert state["process"] == "login"
    assert state["next"] == "/c/1/"


def test_a_next_address_on_another_site_is_dropped(client: Client):
    response = client.post("/accounts/oidc/corp/login/", {"next": "https://evil.example/"})
    url = html.unescape(re.search(r'content="0;url=([^"]+)"', response.content.decode())[1])
    state_id = parse_qs(urlsplit(url).query)["state"][0]
    assert "next" not in client.session["socialaccount_states"][state_id][0]


def test_the_protocol_s_name_is_not_a_provider(client: Client, settings):
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        *apps,
        {**apps[0], "provider_id": "second", "name": "Second"},
    ]
    assert client.post("/accounts/oidc/openid_connect/login/").status_code == 404
    assert client.get("/accounts/oidc/openid_connect/login/callback/").status_code == 404


def test_a_provider_that_cannot_be_reached_gets_an_error_page_not_a_500(client: Client, settings):
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        {
            "provider_id": "down",
            "name": "Down",
            "client_id": "c",
            "secret": "s",
            "settings": {"server_url": "http://127.0.0.1:9"},
        }
    ]
    response = client.post("/accounts/oidc/down/login/")
    assert response.status_code == 502
    assert b"Sign-in failed" in response.content


def test_a_callback_no_sign_in_of_this_session_waits_for_is_refused(client: Client):
    response = client.get("/accounts/oidc/corp/login/callback/", {"state": "x", "code": "y"})
    assert response.status_code == 401
    assert b"Sign-in failed" in response.content
    assert "_auth_user_id" not in client.session


def test_an_unknown_provider_is_not_found(client: Client):
    assert client.post("/accounts/oidc/nobody/login/").status_code == 404
