"""What a generation reads and writes in the database: the request, flushes, the final save."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from chat.models import Message, Usage
from chat.selectors import message_lineage
from chat.services.usage import UsageCounts, usage_record


@dataclass(frozen=True)
class ChatRequest:
    user_id: int
    conversation_id: int
    model: str
    messages: list[dict[str, Any]]


@dataclass
class GenerationResult:
    status: str
    content: str
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = ""
    error: str = ""
    provider: str = ""
    model: str = ""
    usage: UsageCounts = field(default_factory=UsageCounts)
    time_to_first_token_ms: int | None = None
    duration_ms: int | None = None


def chat_request_build(*, message_id: int) -> ChatRequest:
    """The messages to send for a streaming answer: its branch, after the system prompt."""
    message = Message.objects.select_related("conversation").get(pk=message_id)
    conversation = message.conversation
    messages: list[dict[str, Any]] = []
    if conversation.system_prompt:
        messages.append({"role": "system", "content": conversation.system_prompt})
    for past in message_lineage(message=message)[:-1]:
        if past.role == Message.Role.ASSISTANT and not past.content:
            continue  # an answer that produced nothing has nothing to tell the model
        messages.append({"role": past.role, "content": past.content})
    return ChatRequest(
        user_id=conversation.user_id,
        conversation_id=conversation.pk,
        model=conversation.model,
        messages=messages,
    )


def assistant_message_flush(*, message_id: int, content: str, reasoning: str) -> None:
    """Save the text so far (crash safety); also the heartbeat that says its process lives."""
    # Filtered on status, so a late flush cannot overwrite a finished answer.
    Message.objects.filter(pk=message_id, status=Message.Status.STREAMING).update(
        content=content, reasoning=reasoning, updated_at=timezone.now()
    )


def assistant_message_finalize(
    *, message_id: int, request_id: uuid.UUID, result: GenerationResult
) -> bool:
    """Save the final answer and its usage row, exactly once per upstream request.

    The generation's own outcome is the truth: it replaces whatever the row says, even an
    `interrupted` set by a sweep that took a slow process for a dead one. A second call
    with the same request id changes nothing and returns False.
    """
    with transaction.atomic():
        if Usage.objects.filter(request_id=request_id).exists():
            return False
        message = Message.objects.select_related("conversation").get(pk=message_id)
        Message.objects.filter(pk=message_id).update(
            status=result.status,
            content=result.content,
            reasoning=result.reasoning,
            tool_calls=result.tool_calls,
            finish_reason=result.finish_reason,
            error=result.error,
            model=result.model,
            time_to_first_token_ms=result.time_to_first_token_ms,
            duration_ms=result.duration_ms,
            updated_at=timezone.now(),
        )
        usage_record(
            request_id=request_id,
            user_id=message.conversation.user_id,
            conversation_id=message.conversation_id,
            message_id=message_id,
            purpose=Usage.Purpose.ANSWER,
            provider=result.provider,
            model=result.model,
            status=result.status,
            counts=result.usage,
            latency_ms=result.duration_ms,
            time_to_first_token_ms=result.time_to_first_token_ms,
        )
    return True
