"""Titles the model writes: the request for one, cleaning its reply, saving it, billing it.

A new conversation is titled at once with the first words of its first message
(conversation_title_from); after its first answer the model is asked for a better one.
If that request fails, or the user renamed the conversation meanwhile, the title stays.
"""

from dataclasses import dataclass
from typing import Any

from chat.models import Conversation, Message, Usage
from chat.services.usage import UsageCounts, usage_record

TITLE_MAX_CHARS = 60
# Quotes and markdown a model may wrap a title in (typographic quotes included).
QUOTES = "\"'`*# \u201c\u201d\u2018\u2019"
# Enough of the exchange to say what it is about, and no more to pay for.
EXCERPT_CHARS = 1500
TITLE_INSTRUCTION = (
    "Write a short title, at most six words, for the conversation below. "
    "Reply with the title only: no quotes, no full stop."
)


@dataclass(frozen=True)
class TitleRequest:
    user_id: int
    conversation_id: int
    model: str
    fallback: str  # the title the conversation has now; replaced only if unchanged
    messages: list[dict[str, Any]]

    @property
    def prompt_text(self) -> str:
        return "\n".join(str(m["content"]) for m in self.messages)


def title_request_build(*, answer_id: int) -> TitleRequest | None:
    """The request for a title from a conversation's first question and answer."""
    answer = Message.objects.select_related("conversation", "parent").get(pk=answer_id)
    question = answer.parent
    if question is None or not answer.content.strip():
        return None
    conversation = answer.conversation
    exchange = (
        f"Question: {question.content[:EXCERPT_CHARS]}\n\nAnswer: {answer.content[:EXCERPT_CHARS]}"
    )
    return TitleRequest(
        user_id=conversation.user_id,
        conversation_id=conversation.pk,
        model=answer.model or conversation.model,
        fallback=conversation.title,
        messages=[
            {"role": "system", "content": TITLE_INSTRUCTION},
            {"role": "user", "content": exchange},
        ],
    )


def title_clean(text: str) -> str:
    """The model's reply as a title: its first line, unquoted, at most TITLE_MAX_CHARS."""
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = " ".join(line.split()).strip(QUOTES).rstrip(".")
    if line.lower().startswith("title:"):
        line = line[len("title:") :].strip()
    if len(line) > TITLE_MAX_CHARS:
        line = line[:TITLE_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    return line


def conversation_title_save(*, request: TitleRequest, title: str) -> bool:
    """Save the model's title unless the user renamed the conversation meanwhile."""
    unchanged = Conversation.objects.filter(pk=request.conversation_id, title=request.fallback)
    return unchanged.update(title=title) == 1


def title_usage_record(
    *,
    request: TitleRequest,
    provider: str,
    model: str,
    status: str,
    counts: UsageCounts,
    latency_ms: int | None,
) -> Usage:
    return usage_record(
        user_id=request.user_id,
        conversation_id=request.conversation_id,
        message_id=None,
        purpose=Usage.Purpose.TITLE,
        provider=provider,
        model=model,
        status=status,
        counts=counts,
        latency_ms=latency_ms,
    )
