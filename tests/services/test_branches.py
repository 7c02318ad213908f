"""Regenerate, edit and flip between branches: nothing is lost, and exactly the selected
branch is what the page shows and what goes upstream."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message, SiteSettings, UserLimits
from chat.selectors import branch_siblings, conversation_branch
from chat.services.answers.branches import (
    NotBranchable,
    branch_select,
    message_edit,
    message_regenerate,
)
from chat.services.answers.sending import message_send
from chat.services.conversations.lifecycle import GenerationInProgress
from chat.services.providers import ModelNotAllowed
from chat.services.usage.limits import LimitReached
from tests.conftest import generations_settle, usage_spent
from tests.websocket import connect, receive_until


def _finish(message: Message, content: str) -> None:
    Message.objects.filter(pk=message.pk).update(status="complete", content=content)


@pytest.fixture
def two_turns(alice) -> dict[str, Message]:
    """one → 1 → two → 2, all finished."""
    first = message_send(user=alice, conversation_id=None, content="one")
    _finish(first.assistant_message, "1")
    second = message_send(user=alice, conversation_id=first.conversation.pk, content="two")
    _finish(second.assistant_message, "2")
    return {
        "q1": first.user_message,
        "a1": first.assistant_message,
        "q2": second.user_message,
        "a2": second.assistant_message,
    }


def _branch_ids(conversation_id: int) -> list[int]:
    conversation = Conversation.objects.get(pk=conversation_id)
    return [m.pk for m in conversation_branch(conversation=conversation)]


# --- services ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_regenerating_adds_a_sibling_answer_and_keeps_the_old_one(alice, two_turns):
    started = message_regenerate(user=alice, message_id=two_turns["a2"].pk)

    new = started.assistant_message
    assert new.parent_id == two_turns["q2"].pk
    assert new.status == Message.Status.STREAMING
    assert Message.objects.filter(pk=two_turns["a2"].pk, content="2").exists()
    assert _branch_ids(started.conversation.pk) == [
        two_turns["q1"].pk,
        two_turns["a1"].pk,
        two_turns["q2"].pk,
        new.pk,
    ]
    assert started.request.messages == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "1"},
        {"role": "user", "content": "two"},
    ]


@pytest.mark.django_db
def test_editing_a_question_saves_a_new_version_beside_it_with_a_new_answer(alice, two_turns):
    started = message_edit(user=alice, message_id=two_turns["q1"].pk, content="ONE, better")

    branch = conversation_branch(conversation=started.conversation)
    assert [(m.role, m.content) for m in branch] == [("user", "ONE, better"), ("assistant", "")]
    assert branch[0].parent_id is None
    assert started.request.messages == [{"role": "user", "content": "ONE, better"}]
    siblings = branch_siblings(conversation=started.conversation, branch=branch)
    assert siblings[branch[0].pk] == [two_turns["q1"].pk, branch[0].pk]
    assert Message.objects.filter(pk=two_turns["q1"].pk, content="one").exists()


@pytest.mark.django_db
def test_selecting_an_old_version_shows_its_branch_down_to_where_it_was_left(alice, two_turns):
    edited = message_edit(user=alice, message_id=two_turns["q1"].pk, content="other")
    _finish(edited.assistant_message, "x")

    conversation = branch_select(user=alice, message_id=two_turns["q1"].pk)

    assert _branch_ids(conversation.pk) == [
        two_turns["q1"].pk,
        two_turns["a1"].pk,
        two_turns["q2"].pk,
        two_turns["a2"].pk,
    ]


@pytest.mark.django_db
def test_flipping_back_to_a_question_shows_the_answer_last_looked_at_under_it(alice, two_turns):
    regenerated = message_regenerate(user=alice, message_id=two_turns["a2"].pk)
    _finish(regenerated.assistant_message, "2 again")
    branch_select(user=alice, message_id=two_turns["a2"].pk)  # back to the first answer
    edited = message_edit(user=alice, message_id=two_turns["q2"].pk, content="TWO")
    _finish(edited.assistant_message, "II")

    conversation = branch_select(user=alice, message_id=two_turns["q2"].pk)

    assert _branch_ids(conversation.pk)[-1] == two_turns["a2"].pk


@pytest.mark.django_db
def test_a_follow_up_continues_the_selected_branch_not_the_newest_message(alice, two_turns):
    regenerated = message_regenerate(user=alice, message_id=two_turns["a1"].pk)
    _finish(regenerated.assistant_message, "1 again")
    branch_select(user=alice, message_id=two_turns["a1"].pk)

    sent = message_send(user=alice, conversation_id=two_turns["q1"].conversation_id, content="3")

    assert sent.user_message.parent_id == two_turns["a2"].pk
    assert [m["content"] for m in sent.request.messages] == ["one", "1", "two", "2", "3"]


@pytest.mark.django_db
def test_only_answers_are_regenerated_and_only_questions_edited(alice, two_turns):
    with pytest.raises(NotBranchable):
        message_regenerate(user=alice, message_id=two_turns["q1"].pk)
    with pytest.raises(NotBranchable):
        message_edit(user=alice, message_id=two_turns["a1"].pk, content="no")
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_nothing_branches_while_an_answer_is_streaming(alice, two_turns):
    message_regenerate(user=alice, message_id=two_turns["a2"].pk)
    with pytest.raises(GenerationInProgress):
        message_regenerate(user=alice, message_id=two_turns["a2"].pk)
    with pytest.raises(GenerationInProgress):
        message_edit(user=alice, message_id=two_turns["q2"].pk, content="again")
    assert Message.objects.count() == 5


@pytest.mark.django_db
def test_another_users_messages_cannot_be_regenerated_edited_or_selected(bob, two_turns):
    for act in (
        lambda: message_regenerate(user=bob, message_id=two_turns["a2"].pk),
        lambda: message_edit(user=bob, message_id=two_turns["q2"].pk, content="mine now"),
        lambda: branch_select(user=bob, message_id=two_turns["a1"].pk),
    ):
        with pytest.raises(Message.DoesNotExist):
            act()
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_the_page_shows_the_selected_branch_with_its_sibling_counts(alice, two_turns):
    regenerated = message_regenerate(user=alice, message_id=two_turns["a2"].pk)
    _finish(regenerated.assistant_message, "2 again")
    client = Client()
    client.force_login(alice)

    response = client.get(reverse("chat:conversation", args=[two_turns["q1"].conversation_id]))

    shown = [m.pk for m in response.context["messages"]]
    assert shown == [
        two_turns["q1"].pk,
        two_turns["a1"].pk,
        two_turns["q2"].pk,
        regenerated.assistant_message.pk,
    ]
    assert "2 again" in response.content.decode()
    assert response.context["chat_config"]["branches"] == {
        str(regenerated.assistant_message.pk): [
            two_turns["a2"].pk,
            regenerated.assistant_message.pk,
        ]
    }


# --- over the websocket, against the fake upstream ----------------------------------------


async def _conversation_with_one_answer(ws, upstream) -> tuple[int, dict]:
    upstream.plan(tokens=2)
    await ws.send_json_to({"type": "send", "content": "first"})
    frames = await receive_until(ws, "done")
    conversation_id = frames[0]["conversation"]["id"]
    return conversation_id, frames[-1]


@pytest.mark.django_db(transaction=True)
async def test_regenerate_streams_a_new_answer_from_exactly_the_branch(upstream, alice):
    ws = await connect(alice)
    conversation_id, done = await _conversation_with_one_answer(ws, upstream)
    upstream.plan(tokens=3)

    await ws.send_json_to({"type": "regenerate", "message_id": done["message_id"]})
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    branch = frames[0]
    assert branch["type"] == "branch"
    assert branch["conversation_id"] == conversation_id
    question, answer = branch["messages"]
    assert (question["content"], answer["status"]) == ("first", "streaming")
    assert answer["sibling_ids"] == [done["message_id"], answer["id"]]
    assert frames[-1]["message_id"] == answer["id"]
    assert frames[-1]["content"] == "t0 t1 t2 "
    assert upstream.log()[1]["body"]["messages"] == [{"role": "user", "content": "first"}]


@pytest.mark.django_db(transaction=True)
async def test_edit_saves_the_new_question_and_sends_only_its_branch(upstream, alice):
    ws = await connect(alice)
    conversation_id, _ = await _conversation_with_one_answer(ws, upstream)
    upstream.plan(tokens=2)
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "second"})
    frames = await receive_until(ws, "done")
    second_question = next(
        f["message"] for f in frames if f["type"] == "message" and f["message"]["role"] == "user"
    )
    upstream.plan(tokens=1)

    await ws.send_json_to(
        {"type": "edit", "message_id": second_question["id"], "content": "second, edited"}
    )
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    shown = [m["content"] for m in frames[0]["messages"][:3]]
    assert shown == ["first", "t0 t1 ", "second, edited"]
    assert upstream.log()[2]["body"]["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "t0 t1 "},
        {"role": "user", "content": "second, edited"},
    ]
    assert await Message.objects.filter(content="second").aexists()


@pytest.mark.django_db(transaction=True)
async def test_select_branch_sends_the_branch_and_the_next_send_follows_it(upstream, alice):
    ws = await connect(alice)
    conversation_id, done = await _conversation_with_one_answer(ws, upstream)
    upstream.plan(tokens=1)
    await ws.send_json_to({"type": "regenerate", "message_id": done["message_id"]})
    await receive_until(ws, "done")

    await ws.send_json_to({"type": "select_branch", "message_id": done["message_id"]})
    branch = (await receive_until(ws, "branch"))[-1]
    upstream.plan(tokens=1)
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "more"})
    await receive_until(ws, "done")
    await ws.disconnect()

    assert [m["content"] for m in branch["messages"]] == ["first", "t0 t1 "]
    assert upstream.log()[2]["body"]["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "t0 t1 "},
        {"role": "user", "content": "more"},
    ]


@pytest.mark.django_db(transaction=True)
async def test_bob_cannot_regenerate_edit_or_select_in_alices_conversation(upstream, alice, bob):
    alice_ws = await connect(alice)
    _, done = await _conversation_with_one_answer(alice_ws, upstream)
    await alice_ws.disconnect()
    answer = await Message.objects.aget(pk=done["message_id"])

    ws = await connect(bob)
    replies = []
    for frame in (
        {"type": "regenerate", "message_id": answer.pk},
        {"type": "edit", "message_id": answer.parent_id, "content": "hijack"},
        {"type": "select_branch", "message_id": answer.pk},
    ):
        await ws.send_json_to(frame)
        replies.append(await ws.receive_json_from())
    await ws.disconnect()
    await generations_settle()

    assert [r.get("code") for r in replies] == ["not_found"] * 3
    assert len(upstream.log()) == 1
    assert await Message.objects.acount() == 2


@pytest.mark.django_db(transaction=True)
async def test_regenerating_a_question_is_refused_with_a_clear_error(upstream, alice):
    ws = await connect(alice)
    _, done = await _conversation_with_one_answer(ws, upstream)
    answer = await Message.objects.aget(pk=done["message_id"])

    await ws.send_json_to({"type": "regenerate", "message_id": answer.parent_id})
    reply = await ws.receive_json_from()
    await ws.disconnect()

    assert reply == {
        "type": "error",
        "code": "invalid_field",
        "message": "Only an answer can be regenerated.",
    }


# --- the checks of a send apply to regenerate and edit too ---------------------------------


@pytest.mark.django_db
def test_a_user_over_their_limit_can_neither_regenerate_nor_edit(alice, two_turns):
    SiteSettings(monthly_tokens=100).save()
    usage_spent(alice, prompt=60, completion=60)

    with pytest.raises(LimitReached):
        message_regenerate(user=alice, message_id=two_turns["a2"].pk)
    with pytest.raises(LimitReached):
        message_edit(user=alice, message_id=two_turns["q2"].pk, content="again")
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_a_model_withdrawn_from_the_user_is_not_used_to_regenerate(alice, two_turns):
    Conversation.objects.filter(pk=two_turns["q1"].conversation_id).update(model="big-model")
    UserLimits.objects.create(user=alice, allowed_models=["small-model"])

    with pytest.raises(ModelNotAllowed):
        message_regenerate(user=alice, message_id=two_turns["a2"].pk)
    assert Message.objects.count() == 4


@pytest.mark.django_db(transaction=True)
async def test_regenerating_over_the_limit_is_refused_over_the_websocket(upstream, alice):
    ws = await connect(alice)
    _, done = await _conversation_with_one_answer(ws, upstream)
    await sync_to_async(SiteSettings(monthly_tokens=1).save)()

    await ws.send_json_to({"type": "regenerate", "message_id": done["message_id"]})
    reply = await ws.receive_json_from()
    await ws.disconnect()

    assert reply["code"] == "limit_reached"
    assert len(upstream.log()) == 1
