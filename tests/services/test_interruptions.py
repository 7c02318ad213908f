"""The estimated usage row of an answer whose process died, exactly once."""

import uuid
from datetime import timedelta

from django.utils import timezone

from chat.models import Message, Usage, UsageDaily
from chat.services.answers.interruptions import streams_interrupt, streams_interrupt_stale
from chat.services.answers.outcome import AnswerOutcome
from chat.services.answers.saving import GenerationResult, assistant_message_finalize
from chat.services.answers.sending import message_send
from chat.services.usage.ledger import UsageCounts


def _left_by_a_dead_process(user, content: str = "q") -> Message:
    sent = message_send(user=user, conversation_id=None, content=content)
    Message.objects.filter(pk=sent.assistant_message.pk).update(
        content="so far", updated_at=timezone.now() - timedelta(minutes=1)
    )
    return sent.assistant_message


def test_a_dead_process_s_answer_gets_one_estimated_row_however_many_sweeps_run(alice):
    answer = _left_by_a_dead_process(alice, "what is the answer")

    assert [m.pk for m in streams_interrupt()] == [answer.pk]
    assert streams_interrupt(message_ids=[answer.pk]) == []
    assert streams_interrupt_stale(older_than=None) == 0

    (row,) = Usage.objects.filter(message=answer)
    assert (row.status, row.estimated, row.purpose) == ("interrupted", True, "answer")
    assert row.prompt_tokens > 0
    assert row.completion_tokens > 0
    (daily,) = UsageDaily.objects.filter(user=alice)
    assert (daily.requests, daily.estimated_requests) == (1, 1)
    assert daily.completion_tokens == row.completion_tokens


def test_a_live_process_s_own_save_replaces_the_sweep_s_estimate_in_the_daily_totals(alice):
    answer = _left_by_a_dead_process(alice)
    assert streams_interrupt_stale() == 1  # a slow process taken for a dead one

    result = GenerationResult(
        AnswerOutcome(status="complete", content="all of it"),
        provider="p",
        model="m",
        usage=UsageCounts(5, 9),
    )
    assistant_message_finalize(
        request=None, message_id=answer.pk, request_id=uuid.uuid4(), result=result
    )

    (row,) = Usage.objects.filter(message=answer)
    assert (row.status, row.estimated, row.completion_tokens) == ("complete", False, 9)
    totals = {
        (d.provider, d.model): (d.requests, d.estimated_requests, d.completion_tokens)
        for d in UsageDaily.objects.filter(user=alice)
    }
    assert sum(t[0] for t in totals.values()) == 1
    assert sum(t[1] for t in totals.values()) == 0
    assert totals[("p", "m")] == (1, 0, 9)
