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
