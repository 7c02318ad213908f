"""On Redis, frames for sockets in the generation's process stay in the process; sockets
in other processes get every frame through Redis, in order, a late one from its snapshot
on. "Another process" here is a second RedisLayer, with its own channel prefix, on the
same Redis: what a second daphne process has."""

import os
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from chat.realtime.groups import conversation_group, snapshot_request
from chat.realtime.layers import RedisLayer
from chat.realtime.snapshots import SnapshotGate
from tests.websocket import answer_started, connect, receive_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="Redis: the services pass (make test) runs it"
    ),
]


def other_process() -> RedisLayer:
    return RedisLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


def text_of(frames: list[dict[str, Any]]) -> str:
    return "".join(f["content"] for f in frames if f["type"] in ("delta", "snapshot"))


async def test_a_socket_in_the_generations_process_gets_its_frames_without_redis(
    upstream, alice, monkeypatch
):
    through_redis: list[str] = []
    real_group_send, real_send = RedisChannelLayer.group_send, RedisChannelLayer.send

    async def group_send(layer, group, message):
        through_redis.append(group)
        await real_group_send(layer, group, message)

    async def send(layer, channel, message):
        if message.get("type") == "chat.frame":
            through_redis.append(channel)
        await real_send(layer, channel, message)

    monkeypatch.setattr(RedisChannelLayer, "group_send", group_send)
    monkeypatch.setattr(RedisChannelLayer, "send", send)
    upstream.plan(tokens=20, delay=0.005)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    assert isinstance(get_channel_layer(), RedisLayer)
    assert text_of(frames) == "".join(f"t{i} " for i in range(20))
    assert frames[-1]["content"] == text_of(frames)
    assert through_redis == [], "no frame went through Redis"


async def test_a_socket_in_another_process_gets_every_frame_in_order(upstream, alice):
    upstream.plan(tokens=60, delay=0.01)
    ws = await connect(alice)
    first, conversation_id, message_id = await answer_started(ws)
    # A page in another process joins mid-answer and asks for the answer so far.
    elsewhere = other_process()
    channel = await elsewhere.new_channel()
    await elsewhere.group_add(conversation_group(conversation_id), channel)
    await snapshot_request(message_id=message_id, reply_channel=channel)
    local = first + await receive_until(ws, "done")

    gate, seen = SnapshotGate(), []
    gate.expect(message_id)
    while not seen or seen[-1]["type"] != "done":
        frame = (await elsewhere.receive(channel))["frame"]
        if gate.admit(frame):
            seen.append(frame)
    await ws.disconnect()
    await elsewhere.group_discard(conversation_group(conversation_id), channel)

    whole = "".join(f"t{i} " for i in range(60))
    assert text_of(local) == whole
    assert seen[0]["type"] == "snapshot"
    assert text_of(seen) == whole, "no frame lost, none doubled"
    assert seen[-1]["content"] == whole


async def test_a_full_socket_in_another_process_costs_the_others_nothing(upstream, alice):
    # A process that stalled (or died) leaves its sockets in the group until they expire:
    # their channels fill up, and every send to them is refused.
    layer = get_channel_layer()
    assert isinstance(layer, RedisLayer)
    layer.capacity = 2
    upstream.plan(tokens=1)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    first = await receive_until(ws, "done")
    conversation_id = first[0]["conversation"]["id"]
    stalled = other_process()
    channel = await stalled.new_channel()
    await stalled.group_add(conversation_group(conversation_id), channel)
    upstream.plan(tokens=40, delay=0.01)
    await ws.send_json_to({"type": "send", "content": "more", "conversation_id": conversation_id})
    frames = await receive_until(ws, "done")
    await ws.disconnect()
    await stalled.group_discard(conversation_group(conversation_id), channel)

    whole = "".join(f"t{i} " for i in range(40))
    assert text_of(frames) == whole
    assert (frames[-1]["status"], frames[-1]["content"]) == ("complete", whole)
