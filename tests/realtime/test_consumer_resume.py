"""Opening a conversation while its answer streams: a snapshot, then live deltas after it."""

from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from chat.models import Message
from chat.services.answers.sending import message_send
from tests.conftest import generations_settle
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)
EXPECTED = "".join(f"t{i} " for i in range(120))


async def test_a_late_subscriber_gets_a_snapshot_then_the_rest_without_gap_or_duplicate(
    upstream, alice, settings
):
    # Fast tokens and coarse frames: text is usually pending when the snapshot is taken.
    settings.CHAT_DELTA_INTERVAL = 0.05
    upstream.plan(tokens=120, delay=0.003)
    writer = await connect(alice)
    await writer.send_json_to({"type": "send", "content": "long"})
    frames = await receive_until(writer, "delta")
    frames += [await writer.receive_json_from() for _ in range(3)]
    conversation_id = frames[0]["conversation"]["id"]
    message_id = frames[-1]["message_id"]

    reader = await connect(alice)  # a reload, or another tab
    await reader.send_json_to(
        {"type": "subscribe", "conversation_id": conversation_id, "streaming_ids": [message_id]}
    )
    seen = await receive_until(reader, "done")
    await receive_until(writer, "done")
    await reader.disconnect()
    await writer.disconnect()

    kinds = [f["type"] for f in seen]
    assert kinds[0] == "subscribed"
    snapshot_at = kinds.index("snapshot")
    assert "delta" not in kinds[:snapshot_at], "deltas the snapshot covers are not sent"
    snapshot = seen[snapshot_at]
    assert snapshot["content"], "the snapshot carries the text so far"
    later = [f for f in seen[snapshot_at:] if f["type"] == "delta"]
    assert [f["seq"] for f in later] == list(
        range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(later))
    )
    assert snapshot["content"] + "".join(f.get("content", "") for f in later) == EXPECTED
    assert seen[-1]["content"] == EXPECTED


async def test_a_page_that_missed_the_end_gets_the_final_state_on_subscribe(upstream, alice):
    upstream.plan(tokens=2)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    frames = await receive_until(ws, "done")
    await ws.disconnect()
    conversation_id = frames[0]["conversation"]["id"]

    # A page rendered while it streamed reconnects after the end.
    ws = await connect(alice)
    await ws.send_json_to(
        {
            "type": "subscribe",
            "conversation_id": conversation_id,
            "streaming_ids": [frames[-1]["message_id"]],
        }
    )
    seen = [await ws.receive_json_from(), await ws.receive_json_from()]
    await ws.disconnect()

    assert seen[0]["type"] == "subscribed"
    assert (seen[1]["type"], seen[1]["status"], seen[1]["content"]) == (
        "done",
        "complete",
        "t0 t1 ",
    )


async def test_subscribe_ignores_streaming_ids_of_other_users_conversations(upstream, alice, bob):
    upstream.plan(tokens=1)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "secret"})
    alices = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()
    bobs = await sync_to_async(message_send)(user=bob, conversation_id=None, content="mine")

    ws = await connect(bob)
    await ws.send_json_to(
        {
            "type": "subscribe",
            "conversation_id": bobs.conversation.pk,
            "streaming_ids": [alices["message_id"]],
        }
    )
    reply = await ws.receive_json_from()
    nothing_more = await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()

    assert reply["type"] == "subscribed"
    assert nothing_more, "alice's answer must not be sent to bob"


async def test_recover_streams_marks_dead_answers_interrupted_at_start_up(alice):
    sent = await sync_to_async(message_send)(user=alice, conversation_id=None, content="q")
    out = StringIO()
    await sync_to_async(call_command)("recover_streams", stdout=out)
    assert "0 answer(s)" in out.getvalue(), "a fresh answer may belong to a live process"

    await sync_to_async(call_command)("recover_streams", "--all", stdout=out)
    answer = await Message.objects.aget(pk=sent.assistant_message.pk)
    assert answer.status == Message.Status.INTERRUPTED
    assert answer.error


async def test_recover_streams_without_all_marks_only_stale_answers(alice):
    old = await sync_to_async(message_send)(user=alice, conversation_id=None, content="old")
    await Message.objects.filter(pk=old.assistant_message.pk).aupdate(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    fresh = await sync_to_async(message_send)(user=alice, conversation_id=None, content="new")
    await sync_to_async(call_command)("recover_streams", stdout=StringIO())

    assert (await Message.objects.aget(pk=old.assistant_message.pk)).status == "interrupted"
    assert (await Message.objects.aget(pk=fresh.assistant_message.pk)).status == "streaming"
    await generations_settle()


async def test_a_page_back_after_a_lost_socket_gets_the_branch_it_may_have_missed(upstream, alice):
    upstream.plan(tokens=2)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    frames = await receive_until(ws, "done")
    await ws.disconnect()
    conversation_id = frames[0]["conversation"]["id"]

    back = await connect(alice)  # it never saw the question nor the answer
    await back.send_json_to(
        {"type": "subscribe", "conversation_id": conversation_id, "branch": True}
    )
    seen = await receive_until(back, "branch")
    await back.disconnect()

    assert [f["type"] for f in seen] == ["subscribed", "branch"]
    shown = [(m["role"], m["content"], m["status"]) for m in seen[-1]["messages"]]
    assert shown == [("user", "hi", "complete"), ("assistant", "t0 t1 ", "complete")]
