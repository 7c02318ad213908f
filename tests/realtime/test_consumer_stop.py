from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.models import Message, Usage
from chat.services.answers.sending import message_send
from tests.conftest import generations_settle
from tests.websocket import answer_started, connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def test_stop_closes_the_upstream_connection_and_keeps_the_partial_answer(upstream, alice):
    upstream.plan(tokens=500, delay=0.02)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "count to 500"})
    first_delta = (await receive_until(ws, "delta"))[-1]
    message_id = first_delta["message_id"]
    await ws.send_json_to({"type": "stop", "message_id": message_id})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    entry = await sync_to_async(upstream.wait_for_outcome)("disconnected")
    assert entry["outcome"] == "disconnected", "the upstream request was not closed"
    assert entry["chunks_sent"] < 500
    answer = await Message.objects.aget(pk=message_id)
    assert answer.status == Message.Status.STOPPED
    assert answer.content.startswith("t0 ")
    assert answer.content == done["content"]
    usage = await Usage.objects.aget(message=answer)
    assert usage.estimated is True, "no usage chunk came, so the count is an estimate"
    assert usage.completion_tokens > 0
    assert usage.status == "stopped"


async def test_stop_works_before_the_first_token(upstream, alice):
    # The role chunk comes at once; the first content only after five seconds.
    upstream.plan(tokens=3, delay=5)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    frames = await receive_until(ws, "message")
    frames += await receive_until(ws, "message")
    assistant = frames[-1]["message"]
    assert assistant["role"] == "assistant"
    # Stopped once the provider has the request (the message frames come before it).
    await sync_to_async(upstream.wait_for_outcome)("pending")
    await ws.send_json_to({"type": "stop", "message_id": assistant["id"]})
    done = (await receive_until(ws, "done", timeout=3))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    assert done["content"] == ""
    entry = await sync_to_async(upstream.wait_for_outcome)("disconnected")
    assert entry["outcome"] == "disconnected"
    answer = await Message.objects.aget(pk=assistant["id"])
    assert answer.status == Message.Status.STOPPED


async def test_stopping_a_finished_answer_replies_with_its_saved_state(upstream, alice):
    upstream.plan(tokens=1)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    done = (await receive_until(ws, "done"))[-1]
    await ws.send_json_to({"type": "stop", "message_id": done["message_id"]})
    again = await ws.receive_json_from()
    await ws.disconnect()

    assert again["type"] == "done"
    assert (again["message_id"], again["status"], again["content"]) == (
        done["message_id"],
        "complete",
        "t0 ",
    )
    assert again["usage"] == done["usage"]
    assert len(upstream.log()) == 1


async def test_stop_on_an_answer_whose_process_died_marks_it_interrupted(alice):
    sent = await sync_to_async(message_send)(user=alice, conversation_id=None, content="q")
    long_ago = timezone.now() - timedelta(minutes=5)
    await Message.objects.filter(pk=sent.assistant_message.pk).aupdate(updated_at=long_ago)
    ws = await connect(alice)
    await ws.send_json_to({"type": "stop", "message_id": sent.assistant_message.pk})
    done = await ws.receive_json_from()
    await ws.disconnect()

    assert (done["type"], done["status"]) == ("done", "interrupted")
    answer = await Message.objects.aget(pk=sent.assistant_message.pk)
    assert answer.status == Message.Status.INTERRUPTED


async def test_stop_from_a_second_tab_stops_the_answer_in_both(upstream, alice):
    upstream.plan(tokens=500, delay=0.02)
    first_tab = await connect(alice)
    _, conversation_id, message_id = await answer_started(first_tab, "go")
    second_tab = await connect(alice)
    await second_tab.send_json_to({"type": "subscribe", "conversation_id": conversation_id})
    await receive_until(second_tab, "subscribed")
    await second_tab.send_json_to({"type": "stop", "message_id": message_id})

    done_in_first = (await receive_until(first_tab, "done"))[-1]
    done_in_second = (await receive_until(second_tab, "done"))[-1]
    await first_tab.disconnect()
    await second_tab.disconnect()

    assert done_in_first["status"] == done_in_second["status"] == "stopped"
    assert done_in_first["content"] == done_in_second["content"]
    assert (await sync_to_async(upstream.wait_for_outcome)("disconnected"))[
        "outcome"
    ] == "disconnected"


async def test_a_second_send_while_one_streams_is_refused_and_nothing_is_saved(upstream, alice):
    upstream.plan(tokens=50, delay=0.02)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "first"})
    frames = await receive_until(ws, "delta")
    conversation_id = frames[0]["conversation"]["id"]
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "again"})
    frames = await receive_until(ws, "error")
    await generations_settle()
    await ws.disconnect()

    assert frames[-1]["code"] == "busy"
    assert not await Message.objects.filter(content="again").aexists()
    assert await Message.objects.filter(conversation_id=conversation_id).acount() == 2
