"""Ask the model for a conversation's title after its first answer.

Runs at the end of the first answer's generation (so it is a task somebody owns and
waits for). Best effort: any failure leaves the first-words title in place, and the
request is in the usage ledger either way.
"""

import asyncio
import logging
import time
from contextlib import aclosing

from channels.db import database_sync_to_async

from chat.models import Message
from chat.services.titles import (
    TITLE_MAX_CHARS,
    TitleRequest,
    conversation_title_save,
    title_clean,
    title_request_build,
    title_usage_record,
)
from chat.services.usage import UsageCounts, usage_estimate
from chat.upstream.client import RetryPolicy, UpstreamClient
from chat.upstream.errors import UpstreamError
from chat.upstream.events import ContentDelta, UsageReport
from chat.upstream.models import model_default
from chat.upstream.provider import Provider

logger = logging.getLogger(__name__)

# A title is not worth waiting for: one attempt, no retries.
NO_RETRIES = RetryPolicy(attempts=1, base_delay=0.0, max_wait=0.0)
# Stop reading a reply this long: a title would only be cut from it.
READ_AT_MOST = TITLE_MAX_CHARS * 4


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
