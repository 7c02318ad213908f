"""Which local account a provider's sign-in may continue: only by a verified email of
exactly one account, never a superuser's, never one the provider already links to
another subject; and the providers made in the admin are offered like those of the
environment."""

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialLogin

from chat.models import IdentityProvider, User
from chat.sso.adapters import SocialAccountAdapter
from chat.sso.providers import identity_provider_secret_set
from chat.sso.selectors import sign_in_buttons

pytestmark = pytest.mark.django_db


def sign_in(email: str, *, verified: bool, uid: str = "new-subject") -> SocialLogin:
    return SocialLogin(
        account=SocialAccount(provider="corp", uid=uid),
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
    )


def found(login: SocialLogin) -> User | None:
    match = SocialAccountAdapter().authenticate_by_email(login)
    return match[0] if match else None  # type: ignore[return-value]


def test_a_verified_email_finds_the_one_account_with_it(alice: User):
    alice.email = "alice@example.org"
    alice.save()
    assert found(sign_in("ALICE@example.org", verified=True)) == alice


def test_an_unverified_email_finds_no_account(alice: User):
    alice.email = "alice@example.org"
    alice.save()
    assert found(sign_in("alice@example.org", verified=False)) is None


def test_an_email_two_accounts_share_finds_neither(alice: User, bob: User):
    User.objects.filter(pk__in=[alice.pk, bob.pk]).update(email="shared@example.org")
    assert found(sign_in("shared@example.org", verified=True)) is None


def test_a_superuser_is_never_found_by_email(alice: User):
    User.objects.filter(pk=alice.pk).update(email="root@example.org", is_superuser=True)
    assert found(sign_in("root@example.org", verified=True)) is None


def test_an_account_linked_to_another_subject_of_the_provider_is_not_found(alice: User):
    # The provider gave the address to someone new: their new subject is not alice.
    alice.email = "alice@example.org"
    alice.save()
    SocialAccount.objects.create(user=alice, provider="corp", uid="old-subject")
    assert found(sign_in("alice@example.org", verified=True, uid="new-subject")) is None


def test_a_provider_made_in_the_admin_gets_a_button_and_its_secret_decrypted(rf, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "openid_connect": {
            **settings.SOCIALACCOUNT_PROVIDERS["openid_connect"],
            "APPS": [
                {
                    "provider_id": "env",
                    "name": "From the environment",
                    "client_id": "a",
                    "secret": "b",
                    "settings": {"server_url": "https://idp.example.org"},
                }
            ],
        },
    }
    row = IdentityProvider(
        slug="admin-made",
        name="Made in the admin",
        issuer="https://login.example.org/",
        client_id="c",
    )
    identity_provider_secret_set(row, "the-client-secret-1234")
    row.save()
    IdentityProvider.objects.create(
        slug="off", name="Off", issuer="https://x.example", enabled=False
    )
    request = rf.get("/accounts/login/")

    buttons = sign_in_buttons(request)

    assert [b.name for b in buttons] == ["From the environment", "Made in the admin"]
    assert buttons[1].url == "/accounts/oidc/admin-made/login/"
    app = SocialAccountAdapter().get_app(request, provider="admin-made")
    assert app.secret == "the-client-secret-1234"
    assert app.settings["server_url"] == "https://login.example.org"
    assert "the-client-secret" not in row.client_secret_encrypted


def test_a_provider_whose_secret_cannot_be_decrypted_is_left_out_not_the_page(client, caplog):
    IdentityProvider.objects.create(
        slug="stale",
        name="Stale",
        issuer="https://idp.example.org",
        client_id="c",
        client_secret_encrypted="gAAAAA-encrypted-with-a-key-since-removed",
    )

    page = client.get("/accounts/login/")

    assert page.status_code == 200
    assert b"Sign in with Stale" not in page.content
    assert "stale" in caplog.text
