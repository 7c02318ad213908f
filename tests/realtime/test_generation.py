"""A generation as its viewers and the database see it: the frames a socket receives, the
saved message, with a real upstream (the fake one, or a scripted one) on loopback."""

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer

from chat.models import Message
from chat.realtime.groups import conversation_group
from chat.realtime.layers import InProcessChannelLayer
from tests.conftest import generations_settle
from tests.servers import FAKE_API_KEY, ScriptedUpstream
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


class ConversationSendsHeld(InProcessChannelLayer):
    """The in-process layer, except that while held, what is sent to a conversation's
    sockets waits: a frame the generation built is then not yet delivered, as on a slow
    Redis. Stop and snapshot requests (the generation's own group) pass."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.released = asyncio.Event()
        self.released.set()
        self.conversation_groups: set[str] = set()

    def hold(self, conversation_id: int) -> None:
        self.conversation_groups.add(conversation_group(conversation_id))
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if group in self.conversation_groups:
            await self.released.wait()
        await super().group_send(group, message)


async def saved_content(message_id: int, expected: str, timeout: float = 10.0) -> str:
    """The answer's text as its flushes saved it, once it is `expected` (or time is up)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        content = await Message.objects.values_list("content", flat=True).aget(pk=message_id)
        if content == expected or asyncio.get_running_loop().time() > deadline:
            return content
        await asyncio.sleep(0.05)


async def test_a_snapshot_holds_exactly_the_text_its_seq_covers(upstream, alice, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": f"{__name__}.{ConversationSendsHeld.__qualname__}"}
    }
    settings.CHAT_DELTA_INTERVAL = 0.05
    # 0.3 s between chunks: "hm " is delta 1 on its own, "Hello " is delta 2, and "world"
    # comes while delta 2 is held; then the upstream stalls until Stop.
    upstream.plan(
        reasoning_text="hm ", pieces=["Hello ", "world", "!"], delay=0.3, stall_after=2, stall=30
    )
    writer = await connect(alice)
    layer = get_channel_layer()
    assert isinstance(layer, ConversationSendsHeld)
    await writer.send_json_to({"type": "send", "content": "hi"})
    frames = await receive_until(writer, "delta")
    conversation_id = frames[0]["conversation"]["id"]
    message_id = frames[-1]["message_id"]
    layer.hold(conversation_id)
    # The flush shows the generation has received "world": delta 2 is held, "world" waits.
    received = await saved_content(message_id, "Hello world")

    reader = await connect(alice)
    await reader.send_json_to(
        {"type": "subscribe", "conversation_id": conversation_id, "streaming_ids": [message_id]}
    )
    subscribed = await reader.receive_json_from(timeout=5)
    snapshot = await reader.receive_json_from(timeout=5)
    layer.release()
    await writer.send_json_to({"type": "stop", "message_id": message_id})
    frames += await receive_until(writer, "done")
    after_snapshot = await receive_until(reader, "done")
    await reader.disconnect()
    await writer.disconnect()
    await generations_settle()

    assert received == "Hello world"
    assert subscribed["type"] == "subscribed"
    assert snapshot["type"] == "snapshot"
    assert (snapshot["seq"], snapshot["content"], snapshot["reasoning"]) == (2, "Hello ", "hm ")
    deltas = [f for f in frames if f["type"] == "delta"]
    covered = [f for f in deltas if f["seq"] <= snapshot["seq"]]
    assert [f["seq"] for f in deltas] == [1, 2, 3]
    assert snapshot["content"] == "".join(f.get("content", "") for f in covered)
    assert snapshot["reasoning"] == "".join(f.get("reasoning", "") for f in covered)
    later = [f for f in after_snapshot if f["type"] == "delta"]
    assert [(f["seq"], f.get("content")) for f in later] == [(3, "world")]
    done = after_snapshot[-1]
    assert (done["status"], done["content"], done["reasoning"]) == ("stopped", "Hello world", "hm ")
    assert snapshot["content"] + "".join(f.get("content", "") for f in later) == done["content"]


async def test_tool_call_pieces_are_joined_by_index(alice, settings):
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "model": "chatsite-demo",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def piece(index: int, arguments: str, **named: str) -> dict[str, Any]:
        call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
        if "id" in named:
            call["id"], call["type"] = named["id"], "function"
            call["function"]["name"] = named["name"]
        return chunk({"tool_calls": [call]})

    # The second call's first piece comes before the first call's, and the first call's
    # arguments come in two pieces, the second without id or name.
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        piece(1, "", id="b", name="second"),
        piece(0, '{"x"', id="a", name="first"),
        piece(0, ": 1}"),
        chunk({}, "tool_calls"),
    ]
    async with ScriptedUpstream(chunks) as scripted:
        settings.LLM_BASE_URL = scripted.base_url
        settings.LLM_API_KEY = FAKE_API_KEY
        settings.LLM_MODEL = "chatsite-demo"
        ws = await connect(alice)
        await ws.send_json_to({"type": "send", "content": "call them"})
        frames = await receive_until(ws, "done")
        await ws.disconnect()
        await generations_settle()
    message = await Message.objects.aget(pk=frames[-1]["message_id"])

    assert len(scripted.requests) == 1
    assert (message.status, message.finish_reason) == ("complete", "tool_calls")
    assert message.tool_calls == [
        {"id": "a", "type": "function", "function": {"name": "first", "arguments": '{"x": 1}'}},
        {"id": "b", "type": "function", "function": {"name": "second", "arguments": ""}},
    ]
    assert frames[-1]["tool_calls"] == message.tool_calls
