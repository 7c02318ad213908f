"""User B can never open, list, send to, subscribe to or stop user A's conversation."""

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message
from tests.conftest import generations_settle
from tests.websocket import connect, receive_until


@pytest.fixture
def alices_conversation(alice) -> Conversation:
    conversation = Conversation.objects.create(user=alice, title="Alice's secret plans")
    question = Message.objects.create(
        conversation=conversation, role="user", content="alice's private question"
    )
    Message.objects.create(
        conversation=conversation, parent=question, role="assistant", content="private answer"
    )
    return conversation


@pytest.mark.django_db
def test_bob_gets_a_404_for_alices_conversation_page(bob, alices_conversation):
    client = Client()
    client.force_login(bob)
    response = client.get(reverse("chat:conversation", args=[alices_conversation.pk]))
    assert response.status_code == 404
    assert b"private" not in response.content


@pytest.mark.django_db
def test_bobs_sidebar_does_not_list_alices_conversations(bob, alices_conversation):
    Conversation.objects.create(user=bob, title="Bob's own chat")
    client = Client()
    client.force_login(bob)
    page = client.get(reverse("chat:home")).content.decode()
    assert "Bob&#x27;s own chat" in page
    assert "Alice" not in page


@pytest.mark.django_db(transaction=True)
async def test_bob_cannot_send_to_alices_conversation(upstream, bob, alices_conversation):
    ws = await connect(bob)
    await ws.send_json_to(
        {"type": "send", "conversation_id": alices_conversation.pk, "content": "let me in"}
    )
    error = await ws.receive_json_from()
    await ws.disconnect()

    assert error == {"type": "error", "code": "not_found", "message": "Conversation not found."}
    assert await Message.objects.filter(conversation=alices_conversation).acount() == 2
    assert upstream.log() == []


@pytest.mark.django_db(transaction=True)
async def test_bob_cannot_subscribe_to_alices_conversation(
    upstream, alice, bob, alices_conversation
):
    bob_ws = await connect(bob)
    await bob_ws.send_json_to({"type": "subscribe", "conversation_id": alices_conversation.pk})
    error = await bob_ws.receive_json_from()
    assert error["code"] == "not_found"

    # Alice's new answer streams to her, and nothing of it reaches Bob's socket.
    upstream.plan(tokens=5)
    alice_ws = await connect(alice)
    await alice_ws.send_json_to(
        {"type": "send", "conversation_id": alices_conversation.pk, "content": "more"}
    )
    await receive_until(alice_ws, "done")
    assert await bob_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_bob_cannot_stop_alices_answer(upstream, alice, bob, alices_conversation):
    upstream.plan(tokens=30, delay=0.02)
    alice_ws = await connect(alice)
    await alice_ws.send_json_to(
        {"type": "send", "conversation_id": alices_conversation.pk, "content": "go on"}
    )
    message_id = (await receive_until(alice_ws, "delta"))[-1]["message_id"]
    bob_ws = await connect(bob)
    await bob_ws.send_json_to({"type": "stop", "message_id": message_id})
    error = await bob_ws.receive_json_from()
    done = (await receive_until(alice_ws, "done"))[-1]
    await generations_settle()
    await alice_ws.disconnect()
    await bob_ws.disconnect()

    assert error["code"] == "not_found"
    assert done["status"] == "complete"


@pytest.mark.django_db(transaction=True)
async def test_alice_can_subscribe_to_her_own_conversation(alice, alices_conversation):
    ws = await connect(alice)
    await ws.send_json_to({"type": "subscribe", "conversation_id": alices_conversation.pk})
    reply = await ws.receive_json_from()
    await ws.disconnect()
    assert reply == {"type": "subscribed", "conversation_id": alices_conversation.pk}
