import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation, Message, Usage
from chat.services.answers.interruptions import streams_interrupt_stale
from chat.services.answers.outcome import AnswerOutcome
from chat.services.answers.requests import chat_request_build
from chat.services.answers.saving import (
    GenerationResult,
    assistant_message_finalize,
    assistant_message_flush,
)
from chat.services.answers.sending import message_send
from chat.services.conversations.lifecycle import GenerationInProgress, conversation_title_from
from chat.services.usage.ledger import UsageCounts, price_get, tokens_estimate, usage_estimate

pytestmark = pytest.mark.django_db


def test_a_send_saves_the_question_and_a_streaming_answer_together(alice):
    sent = message_send(user=alice, conversation_id=None, content="What is SSE?")

    assert sent.conversation_created
    assert sent.conversation.user == alice
    assert sent.conversation.title == "What is SSE?"
    assert sent.user_message.content == "What is SSE?"
    assert sent.user_message.parent is None
    assert sent.assistant_message.parent == sent.user_message
    assert sent.assistant_message.status == Message.Status.STREAMING


def test_a_follow_up_hangs_under_the_last_answer(alice):
    first = message_send(user=alice, conversation_id=None, content="one")
    Message.objects.filter(pk=first.assistant_message.pk).update(status="complete")
    second = message_send(user=alice, conversation_id=first.conversation.pk, content="two")

    assert not second.conversation_created
    assert second.user_message.parent == first.assistant_message


def test_sending_to_another_users_conversation_is_not_found(alice, bob):
    sent = message_send(user=alice, conversation_id=None, content="mine")
    with pytest.raises(Conversation.DoesNotExist):
        message_send(user=bob, conversation_id=sent.conversation.pk, content="theirs")
    assert Message.objects.count() == 2


def test_a_send_while_an_answer_streams_raises_and_saves_nothing(alice):
    sent = message_send(user=alice, conversation_id=None, content="one")
    with pytest.raises(GenerationInProgress):
        message_send(user=alice, conversation_id=sent.conversation.pk, content="two")
    assert Message.objects.count() == 2


def test_an_answer_left_streaming_by_a_dead_process_is_interrupted(alice):
    sent = message_send(user=alice, conversation_id=None, content="one")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=sent.assistant_message.pk).update(updated_at=an_hour_ago)

    again = message_send(user=alice, conversation_id=sent.conversation.pk, content="two")

    sent.assistant_message.refresh_from_db()
    assert sent.assistant_message.status == Message.Status.INTERRUPTED
    assert again.user_message.content == "two"


def test_a_live_stream_is_not_interrupted(alice):
    message_send(user=alice, conversation_id=None, content="one")
    assert streams_interrupt_stale() == 0


def test_the_request_holds_the_system_prompt_and_the_branch_without_the_new_answer(alice):
    first = message_send(user=alice, conversation_id=None, content="one")
    Message.objects.filter(pk=first.assistant_message.pk).update(status="complete", content="1")
    Conversation.objects.filter(pk=first.conversation.pk).update(
        system_prompt="Be brief.", model="m-1"
    )
    second = message_send(user=alice, conversation_id=first.conversation.pk, content="two")

    request = chat_request_build(message_id=second.assistant_message.pk)

    assert request.model == "m-1"
    assert request.user_id == alice.pk
    assert request.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "1"},
        {"role": "user", "content": "two"},
    ]


def test_a_follow_up_s_request_is_the_one_a_later_build_makes_and_reads_nothing_twice(
    alice, django_assert_num_queries
):
    first = message_send(user=alice, conversation_id=None, content="one")
    Message.objects.filter(pk=first.assistant_message.pk).update(status="complete", content="1")
    conversation_id = first.conversation.pk

    # Its limits, the conversation, its messages (the idle check, the branch and the
    # request all from them), the question, the answer, the selected branch's end; and
    # the transaction's begin and end.
    with django_assert_num_queries(8):
        second = message_send(user=alice, conversation_id=conversation_id, content="two")

    rebuilt = chat_request_build(message_id=second.assistant_message.pk)
    assert second.request.messages == rebuilt.messages
    assert second.request.messages[-1] == {"role": "user", "content": "two"}


def test_the_final_save_writes_the_answer_and_its_usage_and_reads_nothing(
    alice, django_assert_num_queries
):
    sent = message_send(user=alice, conversation_id=None, content="q")
    result = GenerationResult(
        AnswerOutcome(status="complete", content="a"), provider="default", model="m-1"
    )
    price_get(provider="default", model="m-1")  # prices are read once per process

    # The answer, its usage row, the day's two totals; and the transaction's begin and
    # end. No read: an answer no sweep touched has no estimate to withdraw.
    with django_assert_num_queries(6):
        assistant_message_finalize(
            request=sent.request,
            message_id=sent.assistant_message.pk,
            request_id=uuid.uuid4(),
            result=result,
        )

    assert Message.objects.get(pk=sent.assistant_message.pk).status == "complete"
    assert Usage.objects.filter(message=sent.assistant_message).count() == 1


def test_a_flush_saves_partial_text_but_never_over_a_finished_answer(alice):
    sent = message_send(user=alice, conversation_id=None, content="q")
    message_id = sent.assistant_message.pk
    assistant_message_flush(message_id=message_id, content="part", reasoning="")
    assert Message.objects.get(pk=message_id).content == "part"

    assistant_message_finalize(
        request=None,
        message_id=message_id,
        request_id=uuid.uuid4(),
        result=GenerationResult(AnswerOutcome(status="complete", content="whole")),
    )
    assistant_message_flush(message_id=message_id, content="late", reasoning="")
    assert Message.objects.get(pk=message_id).content == "whole"


def test_finalizing_saves_the_answer_and_one_usage_row_exactly_once(alice):
    sent = message_send(user=alice, conversation_id=None, content="q")
    result = GenerationResult(
        AnswerOutcome(status="complete", content="answer", finish_reason="stop"),
        provider="p",
        model="m",
        usage=UsageCounts(prompt_tokens=10, completion_tokens=3, cached_tokens=4),
        time_to_first_token_ms=120,
        duration_ms=900,
        # The last request's own: after tool rounds, less than the answer's.
        request_first_token_ms=100,
        request_latency_ms=700,
    )
    request_id = uuid.uuid4()
    finalize = dict(
        request=sent.request,
        message_id=sent.assistant_message.pk,
        request_id=request_id,
        result=result,
    )
    assert assistant_message_finalize(**finalize)
    assert not assistant_message_finalize(**finalize)

    answer = Message.objects.get(pk=sent.assistant_message.pk)
    assert (answer.status, answer.content, answer.model) == ("complete", "answer", "m")
    (usage,) = Usage.objects.all()
    assert usage.request_id == request_id
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (10, 3, 4)
    assert usage.user == alice
    assert usage.conversation == sent.conversation
    assert (usage.latency_ms, usage.time_to_first_token_ms) == (700, 100)
    assert (answer.duration_ms, answer.time_to_first_token_ms) == (900, 120)


def test_the_generations_own_outcome_replaces_a_mistaken_interrupted_mark(alice):
    sent = message_send(user=alice, conversation_id=None, content="q")
    Message.objects.filter(pk=sent.assistant_message.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    assert streams_interrupt_stale() == 1  # a slow process taken for a dead one

    result = GenerationResult(
        AnswerOutcome(status="complete", content="all of it"), usage=UsageCounts(5, 9)
    )
    assistant_message_finalize(
        request=None, message_id=sent.assistant_message.pk, request_id=uuid.uuid4(), result=result
    )

    answer = Message.objects.get(pk=sent.assistant_message.pk)
    assert (answer.status, answer.content, answer.error) == ("complete", "all of it", "")
    assert Usage.objects.get(message=answer).completion_tokens == 9


def test_an_estimate_is_flagged_and_counts_about_four_characters_a_token():
    assert tokens_estimate("") == 0
    assert tokens_estimate("abcd") == 1
    assert tokens_estimate("abcde") == 2
    counts = usage_estimate(prompt_text="x" * 40, completion_text="y" * 8)
    assert counts == UsageCounts(prompt_tokens=10, completion_tokens=2, estimated=True)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("  Hello   world ", "Hello world"),
        ("", "New conversation"),
        ("word " * 30, ("word " * 12).strip() + "…"),
    ],
)
def test_a_first_title_is_the_opening_words(text, title):
    assert conversation_title_from(text) == title


def test_a_follow_up_after_a_swept_answer_sends_that_answer_as_saved(alice):
    first = message_send(user=alice, conversation_id=None, content="one")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=first.assistant_message.pk).update(
        content="half an ans", updated_at=an_hour_ago
    )

    again = message_send(user=alice, conversation_id=first.conversation.pk, content="two")

    assert again.request.messages[-2:] == [
        {"role": "assistant", "content": "half an ans"},
        {"role": "user", "content": "two"},
    ]
    assert (
        again.request.messages == chat_request_build(message_id=again.assistant_message.pk).messages
    )
