"""Token accounting: the provider's counts when it sent them, an estimate flagged as such."""

import functools
import math
import uuid
from dataclasses import dataclass

import bpe_openai

from chat.models import Usage
from chat.upstream.events import UsageReport

# For models no tokenizer is known for: about four characters a token in English.
CHARS_PER_TOKEN = 4
# Families newer than the tokenizer package's own table, by name prefix.
_ENCODING_BY_PREFIX = [
    (("gpt-5", "gpt-4.1", "gpt-4o", "o1", "o3", "o4", "chatgpt-"), "o200k_base"),
    (("gpt-4", "gpt-3.5"), "cl100k_base"),
]


@dataclass(frozen=True)
class UsageCounts:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False

    @classmethod
    def from_report(cls, report: UsageReport) -> "UsageCounts":
        """The provider's own counts, from its usage chunk."""
        return cls(
            prompt_tokens=report.prompt_tokens,
            completion_tokens=report.completion_tokens,
            cached_tokens=report.cached_tokens,
            reasoning_tokens=report.reasoning_tokens,
        )


@functools.cache
def _encoding(model: str) -> bpe_openai.Encoding | None:
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" on routers
    try:
        return bpe_openai.encoding_for_model(name)
    except (KeyError, ValueError, bpe_openai.UnsupportedModelError):
        pass
    for prefixes, encoding in _ENCODING_BY_PREFIX:
        if name.startswith(prefixes):
            return bpe_openai.get_encoding(encoding)
    return None


def tokens_estimate(text: str, model: str = "") -> int:
    """The model's own tokenizer where it is known, else about four characters a token."""
    if not text:
        return 0
    encoding = _encoding(model) if model else None
    if encoding is None:
        return math.ceil(len(text) / CHARS_PER_TOKEN)
    return len(encoding.encode(text))


def usage_estimate(*, prompt_text: str, completion_text: str, model: str = "") -> UsageCounts:
    return UsageCounts(
        prompt_tokens=tokens_estimate(prompt_text, model),
        completion_tokens=tokens_estimate(completion_text, model),
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
