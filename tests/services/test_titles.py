"""Titles written by the model after the first answer, billed as purpose=title, with the
first words of the first message as the fallback."""

from decimal import Decimal

import pytest

from chat.models import Conversation, ModelPrice, Usage, UsageDaily
from chat.services.conversations.titles import (
    TITLE_INSTRUCTION,
    TitleRequest,
    conversation_title_save,
    title_clean,
)
from tests.conftest import generations_settle
from tests.websocket import connect, receive_until


@pytest.fixture
def auto_titles(settings) -> None:
    settings.CHAT_AUTO_TITLES = True


@pytest.mark.parametrize(
    ("reply", "title"),
    [
        ("Streaming with SSE", "Streaming with SSE"),
        ('"Quoted title."', "Quoted title"),
        ("Title: Paris trip\nSome more words", "Paris trip"),
        ("\n\n**Bold**\n", "Bold"),
        ("word " * 30, ("word " * 12).strip() + "…"),
        ("", ""),
    ],
)
def test_the_models_reply_is_cleaned_into_a_title(reply, title):
    assert title_clean(reply) == title


@pytest.mark.django_db
def test_a_title_never_replaces_a_name_the_user_gave_meanwhile(alice):
    conversation = Conversation.objects.create(user=alice, title="first words")
    request = TitleRequest(alice.pk, conversation.pk, "m", "first words", [])
    Conversation.objects.filter(pk=conversation.pk).update(title="My own name")

    assert conversation_title_save(request=request, title="Model title") is False
    conversation.refresh_from_db()
    assert conversation.title == "My own name"


@pytest.mark.django_db(transaction=True)
async def test_after_the_first_answer_the_model_titles_the_conversation(
    upstream, alice, auto_titles
):
    upstream.plan(tokens=3)
    upstream.plan(tokens=2)  # the title: "t0 t1"
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "How do streams work?"})
    frames = await receive_until(ws, "title")
    await ws.disconnect()
    await generations_settle()

    conversation_id = frames[0]["conversation"]["id"]
    assert frames[0]["conversation"]["title"] == "How do streams work?"
    title_frame = {"type": "title", "conversation": {"id": conversation_id, "title": "t0 t1"}}
    assert frames[-1] == title_frame
    conversation = await Conversation.objects.aget(pk=conversation_id)
    assert conversation.title == "t0 t1"
    request = upstream.log()[1]["body"]
    assert request["messages"] == [
        {"role": "system", "content": TITLE_INSTRUCTION},
        {"role": "user", "content": "Question: How do streams work?\n\nAnswer: t0 t1 t2 "},
    ]
    title_usage = await Usage.objects.aget(purpose=Usage.Purpose.TITLE)
    assert title_usage.user_id == alice.pk
    assert title_usage.conversation_id == conversation_id
    assert (title_usage.completion_tokens, title_usage.status) == (2, "complete")
    assert title_usage.prompt_tokens > 0
    assert await Usage.objects.acount() == 2


@pytest.mark.django_db(transaction=True)
async def test_a_failed_title_request_keeps_the_first_words_and_is_still_recorded(
    upstream, alice, auto_titles
):
    upstream.plan(tokens=3)
    upstream.plan(status=500)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "Keep these first words please"})
    conversation_id = (await receive_until(ws, "conversation"))[-1]["conversation"]["id"]
    frames = await receive_until(ws, "done")
    await generations_settle()
    await ws.disconnect()

    assert all(f["type"] != "title" for f in frames)
    conversation = await Conversation.objects.aget(pk=conversation_id)
    assert conversation.title == "Keep these first words please"
    title_usage = await Usage.objects.aget(purpose=Usage.Purpose.TITLE)
    assert (title_usage.status, title_usage.prompt_tokens) == ("error", 0)
    assert len(upstream.log()) == 2, "a title is not worth a retry"


@pytest.mark.django_db(transaction=True)
async def test_only_the_first_answer_asks_for_a_title(upstream, alice, auto_titles):
    for _ in range(3):
        upstream.plan(tokens=2)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "one"})
    conversation_id = (await receive_until(ws, "conversation"))[-1]["conversation"]["id"]
    await receive_until(ws, "title")
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "two"})
    await receive_until(ws, "done")
    await generations_settle()
    await ws.disconnect()

    assert len(upstream.log()) == 3
    assert await Usage.objects.filter(purpose=Usage.Purpose.TITLE).acount() == 1


@pytest.mark.django_db(transaction=True)
async def test_with_titles_off_no_title_is_asked_for(upstream, alice):
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "one"})
    await receive_until(ws, "done")
    await generations_settle()
    await ws.disconnect()

    assert len(upstream.log()) == 1


@pytest.mark.django_db(transaction=True)
async def test_the_title_request_is_priced_and_counted_in_the_days_totals(
    upstream, alice, auto_titles
):
    await ModelPrice.objects.acreate(
        model="chatsite-demo", input_per_million=Decimal(1000), output_per_million=Decimal(2000)
    )
    upstream.plan(tokens=3)
    upstream.plan(tokens=2)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "price me"})
    await receive_until(ws, "title")
    await generations_settle()
    await ws.disconnect()

    title_usage = await Usage.objects.aget(purpose=Usage.Purpose.TITLE)
    expected = (
        Decimal(title_usage.prompt_tokens) * 1000 + Decimal(title_usage.completion_tokens) * 2000
    ) / 1_000_000
    assert title_usage.cost == expected > 0
    day = await UsageDaily.objects.aget(user=alice)
    assert day.requests == 2
    assert day.completion_tokens == 3 + 2
