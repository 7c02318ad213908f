"""Titles: the first words of a new conversation's first message, then the one the model
writes after the first answer (the request for it, cleaning its reply, saving it, billing it).

If the model's request fails, or the user renamed the conversation meanwhile, the title
stays. Asking runs at the end of the first answer's generation (a task somebody owns and
waits for); best effort, and the request is in the usage ledger either way.
"""

import asyncio
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext_noop

from chat.models import Conversation, Message, Usage
from chat.services.usage.ledger import UsageCounts, usage_estimate, usage_record
from chat.upstream.client import RetryPolicy, UpstreamClient
from chat.upstream.errors import UpstreamError
from chat.upstream.events import ContentDelta, UsageReport
from chat.upstream.model_list import model_default
from chat.upstream.provider import Provider

logger = logging.getLogger(__name__)

# A title the site writes (the first words, or the model's) is at most this long; one the
# user gives may be as long as the column.
TITLE_AUTO_CHARS = 60
TITLE_MAX_CHARS = Conversation._meta.get_field("title").max_length or 200
# Kept English where it is saved (a first message of only spaces, a share's title);
# translated where it is shown, `gettext(TITLE_UNTITLED)`.
TITLE_UNTITLED = gettext_noop("New conversation")
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
    """The model's reply as a title: its first line, unquoted, at most TITLE_AUTO_CHARS."""
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = " ".join(line.split()).strip(QUOTES).rstrip(".")
    if line.lower().startswith("title:"):
        line = line[len("title:") :].strip()
    if len(line) > TITLE_AUTO_CHARS:
        line = line[:TITLE_AUTO_CHARS].rsplit(" ", 1)[0] + "…"
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


def conversation_title_from(text: str) -> str:
    """A first title from the opening message: its first words, cut at a word boundary."""
    words = " ".join(text.split())
    if len(words) <= TITLE_AUTO_CHARS:
        return words or TITLE_UNTITLED
    cut = words[:TITLE_AUTO_CHARS].rsplit(" ", 1)[0] or words[:TITLE_AUTO_CHARS]
    return cut + "…"


# A title is not worth waiting for: one attempt, no retries.
NO_RETRIES = RetryPolicy(attempts=1, base_delay=0.0, max_wait=0.0)
# Stop reading a reply this long: a title would only be cut from it.
READ_AT_MOST = TITLE_AUTO_CHARS * 4


async def title_generate(*, answer_id: int, provider: Provider) -> str | None:
    """Ask for a title and save it; returns the new title, or None when it stays as it was."""
    request = await database_sync_to_async(title_request_build)(answer_id=answer_id)
    if request is None:
        return None
    client = UpstreamClient(provider, retry=NO_RETRIES)
    started = time.monotonic()
    text, report, status, model = "", None, Message.Status.COMPLETE, request.model
    try:
        model = request.model or await model_default(client)
        body = {"model": model, "messages": request.messages}
        async with aclosing(client.stream_chat(body)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    text += event.text
                    if len(text) > READ_AT_MOST:
                        break
                elif isinstance(event, UsageReport):
                    report = event
    except UpstreamError as exc:
        logger.info("title for conversation %s failed: %s", request.conversation_id, exc)
        status = Message.Status.ERROR
        billed = exc.reached
    except asyncio.CancelledError:
        # The server stops (SIGTERM) during the title: a request the provider has is
        # billed all the same, so it gets its row before the task ends.
        if client.request_sent:
            record = _record(
                request, provider, model, Message.Status.INTERRUPTED, text, report, started, True
            )
            await asyncio.shield(record)
        raise
    else:
        billed = True
    title = title_clean(text) if status == Message.Status.COMPLETE else ""
    await _record(request, provider, model, status, text, report, started, billed)
    if not title or not await database_sync_to_async(conversation_title_save)(
        request=request, title=title
    ):
        return None
    return title


async def _record(
    request: TitleRequest,
    provider: Provider,
    model: str,
    status: str,
    text: str,
    report: UsageReport | None,
    started: float,
    billed: bool,
) -> None:
    """The title request's usage row: the provider's counts, else an estimate if the
    provider read the prompt (`billed`), else zero (refused before streaming)."""
    if report is not None:
        counts = UsageCounts.from_report(report)
    elif billed:
        counts = usage_estimate(prompt_text=request.prompt_text, completion_text=text, model=model)
    else:
        counts = UsageCounts()
    await database_sync_to_async(title_usage_record)(
        request=request,
        provider=provider.name,
        model=model,
        status=status,
        counts=counts,
        latency_ms=round((time.monotonic() - started) * 1000),
    )
