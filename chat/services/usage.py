"""Token accounting: the provider's counts when it sent them, an estimate flagged as such."""

import math
import uuid
from dataclasses import dataclass

from chat.models import Usage

# About four characters per token for English text with GPT-style tokenizers.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class UsageCounts:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False


def tokens_estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def usage_estimate(*, prompt_text: str, completion_text: str) -> UsageCounts:
    return UsageCounts(
        prompt_tokens=tokens_estimate(prompt_text),
        completion_tokens=tokens_estimate(completion_text),
        estimated=True,
    )


def usage_record(
    *,
    request_id: uuid.UUID | None = None,
    user_id: int,
    conversation_id: int | None,
    message_id: int | None,
    purpose: str,
    provider: str,
    model: str,
    status: str,
    counts: UsageCounts,
    latency_ms: int | None = None,
    time_to_first_token_ms: int | None = None,
) -> Usage:
    return Usage.objects.create(
        request_id=request_id or uuid.uuid4(),
        user_id=user_id,
        conversation_id=conversation_id,
        message_id=message_id,
        purpose=purpose,
        provider=provider,
        model=model,
        status=status,
        prompt_tokens=counts.prompt_tokens,
        completion_tokens=counts.completion_tokens,
        cached_tokens=counts.cached_tokens,
        reasoning_tokens=counts.reasoning_tokens,
        estimated=counts.estimated,
        latency_ms=latency_ms,
        time_to_first_token_ms=time_to_first_token_ms,
    )
