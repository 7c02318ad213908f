from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation, Invite, Message, SiteSettings, User
from chat.services.accounts import InviteInvalid, account_create
from chat.services.usage.limits import site_settings_forget
from chat.web.forms import SignupForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.parametrize("name", ["chat:home"])
def test_the_chat_page_requires_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_conversation_page_requires_login(client, alice):
    conversation = Conversation.objects.create(user=alice)
    response = client.get(reverse("chat:conversation", args=[conversation.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_person_logs_in_with_a_password_and_lands_on_the_chat(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "alice-password-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("chat:home")
    assert response.context["user"] == alice


def test_logging_out_ends_the_session(alice_client):
    response = alice_client.post(reverse("logout"))
    assert response.status_code == 302
    assert alice_client.get(reverse("chat:home")).status_code == 302


def test_the_conversation_page_shows_its_messages_in_order(alice_client, alice):
    conversation = Conversation.objects.create(user=alice, title="Greetings")
    question = Message.objects.create(conversation=conversation, role="user", content="Hi <b>")
    Message.objects.create(
        conversation=conversation, parent=question, role="assistant", content="Hello!"
    )
    page = alice_client.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()
    assert page.index("Hi &lt;b&gt;") < page.index("Hello!")
    assert "<b>" not in page.split("<main", 1)[1], "message text must be escaped"


def test_the_sidebar_lists_conversations_newest_first(alice_client, alice):
    older = Conversation.objects.create(user=alice, title="Older chat")
    newer = Conversation.objects.create(user=alice, title="Newer chat")
    Conversation.objects.filter(pk=older.pk).update(updated_at=newer.updated_at.replace(year=2000))
    page = alice_client.get(reverse("chat:home")).content.decode()
    assert page.index("Newer chat") < page.index("Older chat")


def test_chat_pages_carry_a_content_security_policy_without_inline_script(alice_client):
    response = alice_client.get(reverse("chat:home"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def _signup_mode(mode: str) -> None:
    SiteSettings(signup_mode=mode).save()


SIGNUP = {"username": "carol", "password1": "a-long-password-9", "password2": "a-long-password-9"}


def test_signup_is_closed_unless_the_site_allows_it(client):
    _signup_mode("closed")
    assert client.get(reverse("signup")).status_code == 404
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 404
    assert not User.objects.filter(username="carol").exists()


def test_the_first_signup_mode_comes_from_the_environment(client, settings):
    settings.SIGNUP_MODE = "open"
    site_settings_forget()
    assert client.get(reverse("signup")).status_code == 200


def test_signup_creates_an_account_and_logs_in_when_open(client):
    _signup_mode("open")
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    assert User.objects.filter(username="carol").exists()
    assert client.get(reverse("chat:home")).status_code == 200


def test_invite_only_signup_needs_a_valid_invite(client):
    _signup_mode("invite")
    assert client.get(reverse("signup")).status_code == 403
    assert client.post(reverse("signup"), {**SIGNUP, "invite": "made-up"}).status_code == 403
    assert not User.objects.filter(username="carol").exists()


def test_an_invite_creates_one_account_and_is_used_up(client):
    _signup_mode("invite")
    invite = Invite.objects.create(note="for carol")
    page = client.get(reverse("signup") + f"?invite={invite.code}")
    assert page.status_code == 200
    assert invite.code in page.content.decode()
    assert client.post(reverse("signup"), {**SIGNUP, "invite": invite.code}).status_code == 302
    invite.refresh_from_db()
    assert invite.used_by == User.objects.get(username="carol")
    client.logout()
    again = {**SIGNUP, "username": "mallory", "invite": invite.code}
    assert client.post(reverse("signup"), again).status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_an_invite_used_to_sign_up_shows_as_used_in_the_admin(client, admin_client):
    _signup_mode("invite")
    invite = Invite.objects.create(note="for carol")
    client.post(reverse("signup"), {**SIGNUP, "invite": invite.code})
    invite.refresh_from_db()
    assert invite.used_at is not None
    page = admin_client.get(reverse("admin:chat_invite_change", args=[invite.pk]))
    assert f"?invite={invite.code}" not in page.content.decode()
    assert "Used" in page.content.decode()


def test_an_invite_stays_used_after_the_account_it_made_is_deleted(client):
    _signup_mode("invite")
    invite = Invite.objects.create(note="for carol")
    client.post(reverse("signup"), {**SIGNUP, "invite": invite.code})
    client.logout()
    User.objects.get(username="carol").delete()
    again = {**SIGNUP, "username": "mallory", "invite": invite.code}
    assert client.post(reverse("signup"), again).status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_of_two_sign_ups_with_one_invite_the_second_to_save_makes_no_account():
    _signup_mode("invite")
    invite = Invite.objects.create(note="for carol")
    dave = User.objects.create_user(username="dave", password="dave-password-1")

    class OvertakenForm(SignupForm):
        """Dave's sign-up uses the invite between this one's check and its save."""

        def save(self, commit: bool = True) -> User:
            Invite.objects.filter(pk=invite.pk).update(used_by=dave, used_at=timezone.now())
            return super().save(commit)

    form = OvertakenForm(SIGNUP)
    assert form.is_valid()
    with pytest.raises(InviteInvalid):
        account_create(form=form, invite_code=invite.code)
    assert not User.objects.filter(username="carol").exists()


def test_an_expired_invite_is_refused(client):
    _signup_mode("invite")
    invite = Invite.objects.create(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.post(reverse("signup"), {**SIGNUP, "invite": invite.code}).status_code == 403


def test_the_login_page_offers_signup_only_when_open(client):
    for mode in ("closed", "invite"):
        _signup_mode(mode)
        assert reverse("signup") not in client.get(reverse("login")).content.decode()
    _signup_mode("open")
    assert reverse("signup") in client.get(reverse("login")).content.decode()


def test_no_page_shows_the_providers_api_key(alice_client, alice, settings):
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.LLM_API_KEY = "sk-very-secret-provider-key"
    conversation = Conversation.objects.create(user=alice, title="t")
    for url in [reverse("chat:home"), reverse("chat:conversation", args=[conversation.pk])]:
        assert "sk-very-secret" not in alice_client.get(url).content.decode()


def test_opening_a_conversation_whose_answer_was_abandoned_unlocks_it(alice_client, alice):
    conversation = Conversation.objects.create(user=alice, title="t")
    answer = Message.objects.create(conversation=conversation, role="assistant", status="streaming")
    Message.objects.filter(pk=answer.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    page = alice_client.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()

    assert 'data-status="interrupted"' in page
    answer.refresh_from_db()
    assert answer.status == Message.Status.INTERRUPTED


def test_the_language_switch_leads_back_to_the_page_it_was_on(alice_client):
    page = alice_client.get(reverse("chat:projects")).content.decode()
    assert 'name="next" value="/projects/"' in page
    answer = alice_client.post("/i18n/setlang/", {"language": "de", "next": "/projects/"})
    assert answer.status_code == 302
    assert answer["Location"] == "/projects/"
    assert alice_client.get(reverse("chat:projects")).context["LANGUAGE_CODE"] == "de"


def test_the_language_switch_on_a_page_a_post_answered_leads_home(alice_client):
    # The import page answers a refused POST with the page itself; GETting that URL
    # again would be a 405.
    page = alice_client.post(reverse("chat:data_import"), {}).content.decode()
    assert 'name="next" value="/"' in page
