"""Is the process writing an answer still alive? Asked by the process whose sockets watch it.

A live generation touches its row at least every HEARTBEAT_INTERVAL (1.5 s), in the same
flush that saves its text. A socket that shows an answer being written in another
process tells this module about every frame of it. When no frame has come for
STALE_STREAM_AFTER (6 s, four heartbeats), this process asks the database, once a
second for all such answers at once: an answer whose row was not touched for as long
either is marked interrupted (with its text so far and an estimated usage row) and its
`done` frame goes to every socket watching it, in any process.

Both signs must agree before an answer is called dead: its frames (which come through the
channel layer) and its heartbeat (through the database). An answer that is slow to
flush under load but still sends deltas is left alone, and so is one that waits for its
provider's first token but still touches its row. If a sweep does take a live process
for a dead one, that generation's own final save wins (chat/services/answers/saving.py).
"""

import asyncio
import logging
import time

from channels.db import database_sync_to_async

from chat.models import Message, Usage
from chat.realtime.frames import ServerFrame, done_frame_from_message
from chat.realtime.generation import generations_running
from chat.realtime.groups import conversation_publish
from chat.selectors import message_usage
from chat.services.answers.heartbeat import STALE_STREAM_AFTER
from chat.services.answers.interruptions import streams_interrupt

logger = logging.getLogger(__name__)

CHECK_EVERY = 1.0

# message id -> (its conversation, when this process last saw a frame of it)
_watched: dict[int, tuple[int, float]] = {}
_task: asyncio.Task[None] | None = None


def watch(message_id: int, conversation_id: int) -> None:
    """A socket of this process shows this answer as being written."""
    _watched[message_id] = (conversation_id, time.monotonic())
    _ensure_running()


def observe(frame: ServerFrame) -> None:
    """A frame forwarded to a socket of this process: its answer shows signs of life."""
    if frame["type"] == "delta" or frame["type"] == "retrying":
        seen = _watched.get(frame["message_id"])
        if seen is not None:
            _watched[frame["message_id"]] = (seen[0], time.monotonic())
    elif frame["type"] == "done":
        _watched.pop(frame["message_id"], None)
    elif frame["type"] == "message":
        message = frame["message"]
        if message["role"] == Message.Role.ASSISTANT and message["status"] == "streaming":
            watch(message["id"], message["conversation_id"])
    elif frame["type"] == "branch":
        for message in frame["messages"]:
            if message["role"] == Message.Role.ASSISTANT and message["status"] == "streaming":
                watch(message["id"], frame["conversation_id"])


def watching() -> list[int]:
    return list(_watched)


def _ensure_running() -> None:
    global _task
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_watch(), name="liveness")


async def _watch() -> None:
    stale_after = STALE_STREAM_AFTER.total_seconds()
    while _watched:
        await asyncio.sleep(CHECK_EVERY)
        now = time.monotonic()
        here = {g.message_id for g in generations_running()}  # alive: this process runs them
        silent = [
            message_id
            for message_id, (_, seen) in _watched.items()
            if message_id not in here and now - seen >= stale_after
        ]
        if not silent:
            continue
        try:
            ended, gone = await database_sync_to_async(_interrupt_dead)(silent)
        except Exception:
            # The database is down: ask again in a second; nothing is marked meanwhile.
            logger.warning("could not check %s silent answers", len(silent), exc_info=True)
            continue
        for message_id in gone:
            _watched.pop(message_id, None)
        for message, usage in ended:
            logger.info("answer %s: its process died; marked interrupted", message.pk)
            await conversation_publish(
                message.conversation_id, done_frame_from_message(message, usage)
            )


def _interrupt_dead(
    message_ids: list[int],
) -> tuple[list[tuple[Message, Usage | None]], list[int]]:
    """The silent answers whose rows are stale too, marked interrupted; and the ids no
    longer streaming at all (ended, here or by another process's sweep)."""
    marked = streams_interrupt(message_ids=message_ids)
    streaming = set(
        Message.objects.filter(pk__in=message_ids, status=Message.Status.STREAMING).values_list(
            "pk", flat=True
        )
    )
    return [(m, message_usage(message=m)) for m in marked], [
        m for m in message_ids if m not in streaming
    ]
