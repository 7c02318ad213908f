"""Providers from the environment: SSO_PROVIDERS names them, each with its issuer, client
id and secret; a missing one is a clear error at start."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from chatsite.env import sso_app_from_env


def test_a_provider_is_read_with_its_label_and_scopes(monkeypatch):
    monkeypatch.setenv("SSO_ENTRA_ID_ISSUER", "https://login.microsoftonline.com/t/v2.0/")
    monkeypatch.setenv("SSO_ENTRA_ID_CLIENT_ID", "client")
    monkeypatch.setenv("SSO_ENTRA_ID_CLIENT_SECRET", "secret")
    monkeypatch.setenv("SSO_ENTRA_ID_LABEL", "Microsoft")
    monkeypatch.setenv("SSO_ENTRA_ID_SCOPES", "openid,email  profile")

    app = sso_app_from_env("Entra-ID")

    assert app["provider_id"] == "entra-id"
    assert app["name"] == "Microsoft"
    assert app["settings"] == {
        "server_url": "https://login.microsoftonline.com/t/v2.0",
        "scope": ["openid", "email", "profile"],
    }


def test_a_provider_without_its_secret_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("SSO_CORP_ISSUER", "https://idp.example.org")
    monkeypatch.setenv("SSO_CORP_CLIENT_ID", "client")
    monkeypatch.delenv("SSO_CORP_CLIENT_SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SSO_CORP_CLIENT_SECRET"):
        sso_app_from_env("corp")


def test_a_name_that_cannot_be_an_address_is_refused():
    with pytest.raises(ImproperlyConfigured, match="short name"):
        sso_app_from_env("a/b")


def test_the_protocol_s_name_is_refused_as_a_provider_s():
    with pytest.raises(ImproperlyConfigured, match="openid_connect is taken"):
        sso_app_from_env("openid_connect")
