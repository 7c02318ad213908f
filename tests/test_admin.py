import pytest
from django.urls import reverse

from chat.models import Conversation, Message, Usage, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(alice, bob):
    conversation = Conversation.objects.create(user=alice, title="Budget talk")
    message = Message.objects.create(conversation=conversation, role="assistant", content="hi")
    for prompt, completion in [(100, 20), (50, 5)]:
        Usage.objects.create(
            user=alice,
            conversation=conversation,
            message=message,
            provider="p",
            model="m",
            status="complete",
            prompt_tokens=prompt,
            completion_tokens=completion,
        )
    Usage.objects.create(
        user=bob, provider="p", model="m", status="stopped", prompt_tokens=7, completion_tokens=1
    )


@pytest.mark.parametrize("model", ["user", "conversation", "message", "usage"])
def test_every_changelist_loads_and_searches(admin_client, ledger, model):
    url = reverse(f"admin:chat_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "alice"}).status_code == 200


def test_the_user_list_shows_each_users_token_totals(admin_client, ledger, alice):
    response = admin_client.get(reverse("admin:chat_user_changelist"))
    users = {user.username: user for user in response.context["cl"].result_list}
    assert (users["alice"].prompt_total, users["alice"].completion_total) == (150, 25)
    assert users["alice"].request_total == 2
    assert (users["bob"].prompt_total, users["bob"].request_total) == (7, 1)
    assert (users["admin"].prompt_total, users["admin"].request_total) == (0, 0)


def test_the_usage_list_filters_by_status(admin_client, ledger):
    response = admin_client.get(
        reverse("admin:chat_usage_changelist"), {"status__exact": "stopped"}
    )
    rows = list(response.context["cl"].result_list)
    assert [row.user.username for row in rows] == ["bob"]


def test_the_usage_ledger_cannot_be_edited_by_hand(admin_client, ledger):
    usage = Usage.objects.first()
    assert admin_client.get(reverse("admin:chat_usage_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:chat_usage_change", args=[usage.pk]), {"prompt_tokens": 0}
    )
    assert response.status_code == 403
    usage.refresh_from_db()
    assert usage.prompt_tokens != 0


def test_an_admin_can_add_a_user(admin_client):
    response = admin_client.post(
        reverse("admin:chat_user_add"),
        {
            "username": "dave",
            "password1": "a-long-password-9",
            "password2": "a-long-password-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(username="dave").exists()
