import asyncio

import pytest

from chat.models import Message, Usage
from tests.conftest import generations_settle
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def wait_for_upstream_outcome(upstream, outcome: str, timeout: float = 5.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        entry = upstream.log()[-1]
        if entry["outcome"] == outcome or asyncio.get_running_loop().time() > deadline:
            return entry
        await asyncio.sleep(0.05)


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
    entry = await wait_for_upstream_outcome(upstream, "disconnected")
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
    await ws.send_json_to({"type": "stop", "message_id": assistant["id"]})
    done = (await receive_until(ws, "done", timeout=3))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    assert done["content"] == ""
    entry = await wait_for_upstream_outcome(upstream, "disconnected")
    assert entry["outcome"] == "disconnected"
    answer = await Message.objects.aget(pk=assistant["id"])
    assert answer.status == Message.Status.STOPPED


async def test_stopping_a_finished_answer_is_refused_clearly(upstream, alice):
    upstream.plan(tokens=1)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    done = (await receive_until(ws, "done"))[-1]
    await ws.send_json_to({"type": "stop", "message_id": done["message_id"]})
    error = await ws.receive_json_from()
    await ws.disconnect()

    assert error == {
        "type": "error",
        "code": "not_streaming",
        "message": "That answer is not being written any more.",
    }


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
