"""The floor the relay is measured against: daphne and chatsite's own upstream client, and
nothing else.

Each websocket `send` frame streams one answer through UpstreamClient (the same paced
reads, SSE and JSON parsing as chatsite) and passes its text on in `delta` frames at most
every CHAT_DELTA_INTERVAL, then a `done` frame: the frames bench.load reads. There is no
Django request handling, session, database, channel layer or generation task, so the
gap between this and chatsite is what those cost, and the gap between this and direct
is what any relay on these libraries costs on the machine.

    python -m chatsite.serve -p 8002 bench.bare_relay:application
"""

import json
import os
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django.setup()

from django.conf import settings  # noqa: E402 - after setup

from chat.upstream.client import UpstreamClient  # noqa: E402
from chat.upstream.events import ContentDelta  # noqa: E402
from chat.upstream.provider import default_provider  # noqa: E402

Send = Any  # the ASGI send callable


async def application(scope: dict[str, Any], receive: Any, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    answers = 0
    while (event := await receive())["type"] == "websocket.receive":
        if json.loads(event.get("text") or "{}").get("type") == "send":
            answers += 1
            await _answer(send, answers)


async def _answer(send: Send, message_id: int) -> None:
    interval = settings.CHAT_DELTA_INTERVAL
    client = UpstreamClient(default_provider(), read_every=interval)
    body = {"model": settings.LLM_MODEL, "messages": [{"role": "user", "content": "bench"}]}
    text: list[str] = []
    pending: list[str] = []
    sent_at, seq = 0.0, 0
    async for event in client.stream_chat(body):
        if isinstance(event, ContentDelta):
            text.append(event.text)
            pending.append(event.text)
            now = time.monotonic()
            if now - sent_at >= interval:  # the first token at once, then one per interval
                seq, sent_at = seq + 1, now
                await _frame(
                    send, type="delta", message_id=message_id, seq=seq, content="".join(pending)
                )
                pending.clear()
    if pending:
        seq += 1
        await _frame(send, type="delta", message_id=message_id, seq=seq, content="".join(pending))
    await _frame(
        send, type="done", message_id=message_id, status="complete", content="".join(text), error=""
    )


async def _frame(send: Send, **frame: Any) -> None:
    await send({"type": "websocket.send", "text": json.dumps(frame)})
