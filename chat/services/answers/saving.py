"""What a generation writes in the database: flushes of the text so far, the final save."""

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Message, Usage
from chat.services.answers.interruptions import interrupted_usage_withdraw
from chat.services.answers.outcome import AnswerOutcome, ToolCall
from chat.services.answers.requests import ChatRequest, chat_request_build
from chat.services.tools.runs import tool_rounds_end, tool_runs_record
from chat.services.tools.states import ToolRunState
from chat.services.usage.ledger import UsageCounts, price_get, usage_estimate, usage_record


@dataclass(frozen=True)
class FailedAttempt:
    """An upstream request that failed before any token and was retried."""

    request_id: uuid.UUID
    status_code: int | None
    message: str
    # It had begun streaming (HTTP 200) before it failed: the provider read the prompt.
    reached: bool = False


@dataclass(frozen=True)
class RoundRequest:
    """The upstream request of a tool round: it ended with the model's tool calls."""

    request_id: uuid.UUID
    counts: UsageCounts
    latency_ms: int | None = None
    time_to_first_token_ms: int | None = None


@dataclass
class GenerationResult:
    """What a generation ends with: the answer's final state, and what its usage rows need."""

    outcome: AnswerOutcome
    provider: str = ""
    model: str = ""
    # The provider's counts; None when no usage chunk came.
    usage: UsageCounts | None = None
    # With no usage chunk: True estimates from prompt_text and the answer; False records
    # zero, for a request the provider refused before streaming (it bills nothing).
    billable: bool = True
    # False: the final request never went out (Stop before it was sent, or while waiting
    # to retry), so it gets no usage row at all.
    sent: bool = True
    prompt_text: str = ""
    failed_attempts: list[FailedAttempt] = field(default_factory=list)
    # The requests of the tool rounds before the final one, each a usage row.
    rounds: list[RoundRequest] = field(default_factory=list)
    time_to_first_token_ms: int | None = None
    duration_ms: int | None = None
    # The final request's own timings, for its usage row; after tool rounds they are the
    # last round's (the answer's include the rounds, approvals and tools before it).
    request_first_token_ms: int | None = None
    request_latency_ms: int | None = None
    # Where the final request's reasoning starts (the rounds before it had their own).
    reasoning_from: int = 0

    def failed_attempt_counts(self, attempt: FailedAttempt) -> UsageCounts:
        """A retried attempt read no answer; it bills the prompt if it had begun streaming."""
        if not attempt.reached:
            return UsageCounts()
        return usage_estimate(prompt_text=self.prompt_text, completion_text="", model=self.model)

    def usage_counts(self) -> UsageCounts:
        if self.usage is not None:
            return self.usage
        if not self.billable:
            return UsageCounts()
        answer = self.outcome
        # The final request wrote what came after the tool rounds (prompt_text holds them).
        written = answer.content[tool_rounds_end(answer.tool_runs) :]
        reasoning = answer.reasoning[self.reasoning_from :]
        return usage_estimate(
            prompt_text=self.prompt_text,
            completion_text=reasoning + written + tool_calls_text(answer.tool_calls),
            model=self.model,
        )


def tool_calls_text(tool_calls: list[ToolCall]) -> str:
    """What a token estimate counts of the tool calls a request wrote."""
    return "".join(c["function"]["name"] + c["function"]["arguments"] for c in tool_calls)


def assistant_message_flush(
    *,
    message_id: int,
    content: str,
    reasoning: str,
    tool_runs: list[ToolRunState] | None = None,
) -> None:
    """Save the text so far (crash safety); also the heartbeat that says its process lives."""
    # Filtered on status, so a late flush cannot overwrite a finished answer.
    Message.objects.filter(pk=message_id, status=Message.Status.STREAMING).update(
        content=content, reasoning=reasoning, tool_runs=tool_runs or [], updated_at=timezone.now()
    )


def assistant_message_finalize(
    *,
    request: ChatRequest | None,
    message_id: int,
    request_id: uuid.UUID,
    result: GenerationResult,
) -> UsageCounts | None:
    """Save the final answer and a usage row per upstream request, exactly once.

    The generation's own outcome is the truth: it replaces whatever the row says, even an
    `interrupted` set by a sweep that took a slow process for a dead one. Returns the
    counts recorded for the final request; a second call with the same request id
    changes nothing and returns None (the usage row's unique request id says so). A
    request never sent has no row, so without failed attempts a second call repeats the
    same update.
    """
    if request is None:  # stopped before it was ever read
        request = chat_request_build(message_id=message_id)
    counts = result.usage_counts()
    record = _answer_recorder(request, message_id, result.provider, result.model)
    try:
        with transaction.atomic():
            columns = {
                **result.outcome.columns(),
                "model": result.model,
                "time_to_first_token_ms": result.time_to_first_token_ms,
                "duration_ms": result.duration_ms,
                "updated_at": timezone.now(),
            }
            # Still streaming, as it is unless a sweep took this live process for a dead
            # one: then the sweep's estimate gives way, and the generation's outcome
            # replaces its `interrupted`. The common case costs one statement.
            streaming = Message.objects.filter(pk=message_id, status=Message.Status.STREAMING)
            if not streaming.update(**columns):
                interrupted_usage_withdraw(message_id=message_id)
                Message.objects.filter(pk=message_id).update(**columns)
            for earlier in result.rounds:
                _round_record(record, earlier)
            for attempt in result.failed_attempts:
                record(
                    request_id=attempt.request_id,
                    status=Message.Status.ERROR,
                    counts=result.failed_attempt_counts(attempt),
                )
            if result.sent:
                record(
                    request_id=request_id,
                    status=result.outcome.status,
                    counts=counts,
                    latency_ms=result.request_latency_ms,
                    time_to_first_token_ms=result.request_first_token_ms,
                )
            tool_runs_record(
                message_id=message_id, user_id=request.user_id, runs=result.outcome.tool_runs
            )
    except IntegrityError:
        # Saved before, if one of its usage rows is there; any other refusal (a trigger,
        # a constraint) is a failed save, to be retried and reported as one.
        request_ids = [a.request_id for a in result.failed_attempts] + [request_id]
        request_ids += [r.request_id for r in result.rounds]
        if Usage.objects.filter(request_id__in=request_ids).exists():
            return None
        raise
    return counts


def answer_round_record(
    *, request: ChatRequest, message_id: int, provider: str, model: str, earlier: RoundRequest
) -> None:
    """The usage row of a tool round's request, as soon as the round ends: a process that
    dies later does not take it along. Once (the final save skips it then)."""
    _round_record(_answer_recorder(request, message_id, provider, model), earlier)


def _answer_recorder(
    request: ChatRequest, message_id: int, provider: str, model: str
) -> Callable[..., Usage]:
    """Records a row of the answer: each request at the price in force when it was asked."""
    return functools.partial(
        usage_record,
        price=price_get(provider=provider, model=model),
        user_id=request.user_id,
        conversation_id=request.conversation_id,
        message_id=message_id,
        purpose=Usage.Purpose.ANSWER,
        provider=provider,
        model=model,
    )


def _round_record(record: Callable[..., Usage], earlier: RoundRequest) -> None:
    if Usage.objects.filter(request_id=earlier.request_id).exists():
        return  # recorded when its round ended (or by an earlier save)
    record(
        request_id=earlier.request_id,
        status=Message.Status.COMPLETE,
        counts=earlier.counts,
        latency_ms=earlier.latency_ms,
        time_to_first_token_ms=earlier.time_to_first_token_ms,
    )


def assistant_message_fail(*, message_id: int, error: str) -> bool:
    """After the final save failed for good: mark the answer `error`, its status and error
    only (the text flushed so far stays), so the row agrees with the done frame. Returns
    whether the row changed; a status the generation itself saved is never overwritten."""
    unfinished = [Message.Status.STREAMING, Message.Status.INTERRUPTED]
    updated = Message.objects.filter(pk=message_id, status__in=unfinished).update(
        status=Message.Status.ERROR, error=error, updated_at=timezone.now()
    )
    return updated == 1
