import asyncio
import json

import pytest

from chat.models import Message, Usage
from tests.conftest import generations_settle
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_streams_an_answer_token_by_token_and_saves_it(upstream, alice):
    upstream.plan(tokens=10, delay=0.01)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "conversation_id": None, "content": "Hello there"})

    frames = await receive_until(ws, "done")
    await ws.disconnect()

    kinds = [f["type"] for f in frames]
    assert kinds[:3] == ["conversation", "message", "message"]
    deltas = [f for f in frames if f["type"] == "delta"]
    assert len(deltas) >= 2, "the answer should arrive in several pieces"
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    streamed = "".join(d.get("content", "") for d in deltas)
    assert streamed == "".join(f"t{i} " for i in range(10))
    done = frames[-1]
    assert done["status"] == "complete"
    assert done["content"] == streamed

    answer = await Message.objects.aget(pk=done["message_id"])
    assert answer.status == Message.Status.COMPLETE
    assert answer.content == streamed
    assert answer.finish_reason == "stop"
    question = await Message.objects.aget(pk=answer.parent_id)
    assert question.content == "Hello there"
    assert question.role == Message.Role.USER


async def test_the_usage_row_holds_the_providers_reported_counts(upstream, alice):
    upstream.plan(tokens=7)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "two words"})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    usage = await Usage.objects.aget(message_id=done["message_id"])
    # The fake bills one token per word plus 3 per message, and one per piece.
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 7)
    assert usage.estimated is False
    assert usage.status == "complete"
    assert usage.user_id == alice.pk
    assert done["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "estimated": False}


async def test_it_asks_the_provider_for_usage_with_the_api_key(upstream, alice):
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    await receive_until(ws, "done")
    await ws.disconnect()

    (request,) = upstream.log()
    assert request["authorized"] is True
    assert request["path"] == "/openai/v1/chat/completions"
    assert request["body"]["stream"] is True
    assert request["body"]["stream_options"] == {"include_usage": True}
    assert request["body"]["messages"] == [{"role": "user", "content": "hi"}]


async def test_it_sends_the_whole_conversation_so_far(upstream, alice):
    upstream.plan(tokens=2)
    upstream.plan(tokens=2)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "first"})
    conversation_id = (await receive_until(ws, "conversation"))[-1]["conversation"]["id"]
    await receive_until(ws, "done")
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "second"})
    await receive_until(ws, "done")
    await ws.disconnect()

    assert upstream.log()[1]["body"]["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "t0 t1 "},
        {"role": "user", "content": "second"},
    ]


async def test_the_answer_is_finished_and_saved_after_the_socket_closes(upstream, alice):
    upstream.plan(tokens=40, delay=0.02)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "tell me a long story"})
    first_delta = (await receive_until(ws, "delta"))[-1]
    await ws.disconnect()  # the tab is closed mid-answer

    await generations_settle()
    answer = await Message.objects.aget(pk=first_delta["message_id"])
    assert answer.status == Message.Status.COMPLETE
    assert answer.content == "".join(f"t{i} " for i in range(40))
    assert upstream.log()[0]["outcome"] == "complete"
    assert await Usage.objects.filter(message=answer).acount() == 1


async def test_a_provider_error_is_shown_and_stored_with_a_usage_row(upstream, alice, settings):
    settings.LLM_API_KEY = "sk-wrong-key"
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "error"
    assert done["error"] == "Incorrect API key provided."
    answer = await Message.objects.aget(pk=done["message_id"])
    assert answer.status == Message.Status.ERROR
    assert answer.error == "Incorrect API key provided."
    usage = await Usage.objects.aget(message=answer)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.status) == (0, 0, "error")


async def test_a_second_tab_on_the_conversation_streams_the_answer_live_too(upstream, alice):
    upstream.plan(tokens=1)
    upstream.plan(tokens=30, delay=0.02)
    first_tab = await connect(alice)
    await first_tab.send_json_to({"type": "send", "content": "one"})
    conversation_id = (await receive_until(first_tab, "done"))[0]["conversation"]["id"]
    second_tab = await connect(alice)
    await second_tab.send_json_to({"type": "subscribe", "conversation_id": conversation_id})
    await receive_until(second_tab, "subscribed")

    await first_tab.send_json_to(
        {"type": "send", "conversation_id": conversation_id, "content": "two"}
    )
    seen_by_second = await receive_until(second_tab, "done")
    await receive_until(first_tab, "done")
    await first_tab.disconnect()
    await second_tab.disconnect()

    assert [f["message"]["role"] for f in seen_by_second if f["type"] == "message"] == [
        "user",
        "assistant",
    ]
    streamed = "".join(f.get("content", "") for f in seen_by_second if f["type"] == "delta")
    assert streamed == seen_by_second[-1]["content"] == "".join(f"t{i} " for i in range(30))


async def test_deltas_are_coalesced_rather_than_sent_per_token(upstream, alice, settings):
    settings.CHAT_DELTA_INTERVAL = 0.1
    upstream.plan(tokens=200, delay=0.002)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "fast"})
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    deltas = [f for f in frames if f["type"] == "delta"]
    assert "".join(d["content"] for d in deltas) == "".join(f"t{i} " for i in range(200))
    assert len(deltas) < 200 / 4, f"{len(deltas)} frames for 200 tokens"


async def test_partial_text_reaches_the_database_while_streaming(upstream, alice, monkeypatch):
    monkeypatch.setattr("chat.realtime.generation.FLUSH_INTERVAL", 0.1)
    upstream.plan(tokens=100, delay=0.02)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "slow"})
    message_id = (await receive_until(ws, "delta"))[-1]["message_id"]
    await asyncio.sleep(0.5)
    partial = await Message.objects.aget(pk=message_id)
    await receive_until(ws, "done")
    await ws.disconnect()

    assert partial.status == Message.Status.STREAMING
    assert partial.content.startswith("t0 t1 ")
    assert len(partial.content) < len("".join(f"t{i} " for i in range(100)))


async def test_a_mid_stream_error_keeps_the_partial_answer_with_the_error(upstream, alice):
    upstream.plan(tokens=10, error_after=4, error_message="The model crashed")
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert (done["status"], done["error"], done["content"]) == (
        "error",
        "The model crashed",
        "t0 t1 t2 t3 ",
    )
    answer = await Message.objects.aget(pk=done["message_id"])
    assert (answer.status, answer.content, answer.error) == (
        "error",
        "t0 t1 t2 t3 ",
        "The model crashed",
    )
    usage = await Usage.objects.aget(message=answer)
    assert usage.estimated is True
    assert usage.completion_tokens > 0


async def test_the_api_key_never_reaches_the_browser_or_the_log(upstream, alice, caplog):
    from tests.servers import FAKE_API_KEY

    upstream.plan(tokens=3, error_after=1, error_message=f"bad key {FAKE_API_KEY}")
    upstream.plan(status=400, error_message=f"key {FAKE_API_KEY} is not allowed here")
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    frames = await receive_until(ws, "done")
    conversation_id = frames[0]["conversation"]["id"]
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "hi"})
    frames += await receive_until(ws, "done")
    await ws.disconnect()

    assert frames[-1]["error"] == "key [redacted] is not allowed here"
    assert FAKE_API_KEY not in json.dumps(frames)
    assert FAKE_API_KEY not in caplog.text
    assert not await Message.objects.filter(error__contains=FAKE_API_KEY).aexists()
