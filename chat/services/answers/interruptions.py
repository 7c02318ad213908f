"""Answers whose process died: the sweep that marks them interrupted, each with an
estimated usage row, and withdrawing that row if the process turns out to be alive and
saves its own."""

import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chat import texts
from chat.models import Conversation, Message, Usage, UsageDaily, UsageDailyModel
from chat.services.answers.heartbeat import STALE_STREAM_AFTER
from chat.services.answers.requests import chat_request_build
from chat.services.providers import ModelNotAllowed
from chat.services.tools.runs import tool_run_over, tool_runs_record
from chat.services.usage.ledger import usage_estimate, usage_record

_NAMESPACE = uuid.UUID("6f1c2a52-8d7e-4b8e-9a57-3c1f0d2e9b41")


def interrupted_request_id(message_id: int) -> uuid.UUID:
    """The request id of the estimated row a sweep records for an answer: one per answer,
    so the ledger's unique request id refuses a second one whatever runs the sweep."""
    return uuid.uuid5(_NAMESPACE, f"answer-interrupted:{message_id}")


def interrupted_usage_withdraw(*, message_id: int) -> None:
    """The answer's process was alive after all (slow, not dead) and saves its own usage:
    remove the sweep's estimate and take it back out of the daily totals. Call it in the
    transaction of that final save."""
    swept = Usage.objects.filter(request_id=interrupted_request_id(message_id)).first()
    if swept is None:
        return
    day = timezone.localdate(swept.created_at)
    less = {
        "requests": F("requests") - 1,
        "estimated_requests": F("estimated_requests") - int(swept.estimated),
        "prompt_tokens": F("prompt_tokens") - swept.prompt_tokens,
        "completion_tokens": F("completion_tokens") - swept.completion_tokens,
        "cached_tokens": F("cached_tokens") - swept.cached_tokens,
        "reasoning_tokens": F("reasoning_tokens") - swept.reasoning_tokens,
        "cost": F("cost") - swept.cost,
    }
    keys = {"day": day, "provider": swept.provider, "model": swept.model}
    UsageDailyModel.objects.filter(**keys).update(**less)
    UsageDaily.objects.filter(**keys, user_id=swept.user_id).update(**less)
    swept.delete()


def message_is_stale(message: Message) -> bool:
    """A streaming answer its process no longer touches."""
    return (
        message.status == Message.Status.STREAMING
        and message.updated_at < timezone.now() - STALE_STREAM_AFTER
    )


def streams_interrupt_stale(
    *, conversation: Conversation | None = None, older_than: timedelta | None = STALE_STREAM_AFTER
) -> int:
    """Mark answers left streaming by a dead process as interrupted; returns how many.

    Called on every send, page load, subscribe and Stop, so an answer whose process died
    unlocks its conversation within STALE_STREAM_AFTER; `older_than=None` marks every
    streaming answer (at the start of a single-process site).
    """
    return len(streams_interrupt(conversation=conversation, older_than=older_than))


def streams_interrupt(
    *,
    conversation: Conversation | None = None,
    message_ids: Sequence[int] | None = None,
    older_than: timedelta | None = STALE_STREAM_AFTER,
) -> list[Message]:
    """Mark the answers left streaming by a dead process as interrupted, each with an
    estimated usage row for its request (it reached the provider, which bills it);
    returns them as saved.

    Each is marked by a conditional update in its own transaction and only the sweep
    whose update changed the row records the usage: sweeps running at once in several
    processes (or `recover_streams` beside them) record exactly one row.
    """
    cutoff = timezone.now() - older_than if older_than is not None else None
    stale = Message.objects.filter(status=Message.Status.STREAMING)
    if cutoff is not None:
        stale = stale.filter(updated_at__lt=cutoff)
    if conversation is not None:
        stale = stale.filter(conversation=conversation)
    if message_ids is not None:
        stale = stale.filter(pk__in=list(message_ids))
    marked = []
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            still = Message.objects.filter(pk=pk, status=Message.Status.STREAMING)
            if cutoff is not None:
                still = still.filter(updated_at__lt=cutoff)
            if not still.update(
                status=Message.Status.INTERRUPTED,
                error=texts.ANSWER_INTERRUPTED,
                updated_at=timezone.now(),
            ):
                continue  # touched meanwhile by its live process, or marked by another sweep
            message = Message.objects.select_related("conversation").get(pk=pk)
            _interrupted_usage_record(message)
            if message.tool_runs:
                _interrupted_tool_runs_record(message)
        marked.append(message)
    return marked


def _interrupted_tool_runs_record(message: Message) -> None:
    """The tool runs of an answer whose process died: those not over were cancelled."""
    runs = [tool_run_over(run) for run in message.tool_runs]
    Message.objects.filter(pk=message.pk).update(tool_runs=runs)
    message.tool_runs = runs
    tool_runs_record(message_id=message.pk, user_id=message.conversation.user_id, runs=runs)


def _interrupted_usage_record(message: Message) -> None:
    """The estimated usage row of an answer whose process died before its final save."""
    conversation = message.conversation
    try:
        request = chat_request_build(message_id=message.pk)
        provider, prompt = request.provider.name, request.prompt_text
        model = message.model or request.model or request.provider.default_model
    except ModelNotAllowed:  # its provider was withdrawn since: still accounted for
        provider, prompt, model = conversation.provider, "", message.model
    counts = usage_estimate(
        prompt_text=prompt, completion_text=message.reasoning + message.content, model=model
    )
    usage_record(
        request_id=interrupted_request_id(message.pk),
        user_id=conversation.user_id,
        conversation_id=conversation.pk,
        message_id=message.pk,
        purpose=Usage.Purpose.ANSWER,
        provider=provider,
        model=model,
        status=Message.Status.INTERRUPTED,
        counts=counts,
        latency_ms=max(0, round((message.updated_at - message.created_at).total_seconds() * 1000)),
    )
