"""A local account resets a forgotten password by email, and changes its password, through
Django's own views: the same answer whether or not an address is known, a link that
works once."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import User

NEW_PASSWORD = "a-new-password-9281"
RESET_LINK = re.compile(r"https?://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def resets_on(settings) -> None:
    # Off by default in production without EMAIL_HOST, as the tests' settings are.
    settings.PASSWORD_RESET_ENABLED = True


@pytest.fixture
def alice_with_email(alice: User) -> User:
    alice.email = "alice@example.org"
    alice.save(update_fields=["email"])
    return alice


def reset_link(client: Client, mailoutbox: list, email: str) -> str:
    response = client.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("password_reset_done")
    (mail,) = mailoutbox
    assert mail.to == [email]
    match = RESET_LINK.search(mail.body)
    assert match, mail.body
    return match.group(1)


def set_password_through(client: Client, link: str, password: str) -> None:
    # The link redirects once to a URL without the token (kept in the session instead).
    form = client.get(link, follow=True)
    assert form.context["validlink"] is True
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302
    assert done.headers["Location"] == reverse("password_reset_complete")


def test_the_login_page_links_to_the_reset(client):
    page = client.get(reverse("login"))
    assert reverse("password_reset") in page.content.decode()


def test_a_reset_link_by_email_sets_a_new_password(client, mailoutbox, alice_with_email):
    link = reset_link(client, mailoutbox, "alice@example.org")
    set_password_through(client, link, NEW_PASSWORD)

    alice_with_email.refresh_from_db()
    assert alice_with_email.check_password(NEW_PASSWORD)
    assert not alice_with_email.check_password("alice-password-1")
    assert Client().login(username="alice", password=NEW_PASSWORD)


def test_a_reset_link_works_once(client, mailoutbox, alice_with_email):
    link = reset_link(client, mailoutbox, "alice@example.org")
    set_password_through(client, link, NEW_PASSWORD)

    again = Client().get(link, follow=True)
    assert again.context["validlink"] is False
    assert "has been used or has expired" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, mailoutbox, alice_with_email):
    known = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    assert [m.to for m in mailoutbox] == [["alice@example.org"]]


def test_the_link_names_the_host_the_site_answers_to_never_another(
    client, mailoutbox, alice_with_email
):
    response = client.post(
        reverse("password_reset"), {"email": "alice@example.org"}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400  # not in ALLOWED_HOSTS: no mail with its links
    assert mailoutbox == []


def test_without_a_way_to_send_email_resets_are_off_and_not_offered(
    client, mailoutbox, settings, alice_with_email
):
    settings.PASSWORD_RESET_ENABLED = False
    assert reverse("password_reset") not in client.get(reverse("login")).content.decode()
    refused = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert refused.status_code == 404
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("environment", "enabled"),
    [({}, False), ({"EMAIL_HOST": "smtp.example.org"}, True), ({"DEBUG": "1"}, True)],
)
def test_resets_are_on_only_where_an_email_can_reach_its_owner(environment, enabled):
    import os
    import subprocess
    import sys

    from tests.servers import ROOT

    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.PASSWORD_RESET_ENABLED)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings", "EMAIL_HOST": ""}
    env.update(environment)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == str(enabled)


def test_a_signed_in_user_changes_their_password_and_stays_signed_in(alice):
    client = Client()
    client.force_login(alice)
    wrong = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 200
    assert "old password was entered incorrectly" in wrong.content.decode()

    changed = client.post(
        reverse("password_change"),
        {
            "old_password": "alice-password-1",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.headers["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert client.get(reverse("chat:home")).status_code == 200, "still signed in"


def test_changing_a_password_needs_a_signed_in_user(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("login"))


def test_sign_up_takes_an_optional_email_for_resets(client, settings):
    from chat.models import SiteSettings

    SiteSettings.objects.update_or_create(pk=1, defaults={"signup_mode": "open"})
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "email": "carol@example.org",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="carol").email == "carol@example.org"


@pytest.mark.parametrize(
    ("email_host", "backend"),
    [
        ("", "django.core.mail.backends.console.EmailBackend"),
        ("smtp.example.org", "django.core.mail.backends.smtp.EmailBackend"),
    ],
)
def test_emails_go_by_smtp_only_when_the_environment_names_a_server(email_host, backend):
    import os
    import subprocess
    import sys

    from tests.servers import ROOT

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.EMAIL_BACKEND, getattr(settings, 'EMAIL_PORT', ''))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings", "EMAIL_HOST": email_host}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == backend
    if email_host:
        assert out[1] == "587"
