"""Who hears what, across every process: the channel-layer groups and the events sent
through them.

A conversation's group holds every socket that shows it; a generation's group holds the
control channel of the task writing one answer, wherever it runs. Sockets publish to
neither directly: they ask through these functions, so the names and event types have
one owner.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from chat.realtime.frames import ServerFrame
from chat.realtime.layers import InProcessChannelLayer, RedisLayer

# The channel-layer event types (Channels turns `chat.frame` into the consumer's handler).
FRAME = "chat.frame"  # a frame for the sockets: {"type", "frame"}
STOP = "generation.stop"  # Stop pressed on any socket
SNAPSHOT = "generation.snapshot"  # a socket asks for the answer so far: {"reply_channel"}
APPROVE = "generation.approve"  # a tool call decided: {"run_id", "approved", "user_id"}
END = "generation.end"  # the generation tells its own listener to finish


def channel_layer() -> BaseChannelLayer:
    """The site's channel layer (settings.CHANNEL_LAYERS always configures one)."""
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("CHANNEL_LAYERS has no default layer.")
    return layer


def site_layer() -> InProcessChannelLayer | RedisLayer:
    """The site's channel layer, one of the two chatsite configures (their `publish` and
    `deliver` keep frames for this process's sockets out of Redis)."""
    layer = channel_layer()
    if not isinstance(layer, InProcessChannelLayer | RedisLayer):
        raise ImproperlyConfigured("CHANNEL_LAYERS must name one of chat.realtime.layers'.")
    return layer


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def generation_group(message_id: int) -> str:
    return f"generation.{message_id}"


def frame_event(frame: ServerFrame) -> dict[str, Any]:
    """The channel-layer event that carries a frame to the sockets that receive it."""
    return {"type": FRAME, "frame": frame}


async def conversation_publish(conversation_id: int, frame: ServerFrame) -> None:
    """Send a frame to every socket watching the conversation, in any process."""
    await site_layer().publish(conversation_group(conversation_id), frame_event(frame))


class Audience:
    """The sockets one generation's frames reach: those in its process in memory, at
    once, in the order published; those in other processes through Redis. Which sockets
    elsewhere watch is read at its first frame and again at most every REREAD seconds
    (a socket that left stops costing sends), at once for a frame sent once the stream
    ended (`fresh`: the done, the title), and a socket that asks for a snapshot is added
    when it asks (it always joins the group first, and the frames before are in the
    snapshot). What goes through Redis goes one send at a time, so a snapshot never
    overtakes a frame it does not cover."""

    REREAD = 1.0

    def __init__(self, conversation_id: int) -> None:
        self.group = conversation_group(conversation_id)
        self.remote: set[str] = set()
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def publish(self, frame: ServerFrame, *, fresh: bool = False) -> None:
        layer, event = site_layer(), frame_event(frame)
        if isinstance(layer, InProcessChannelLayer):
            await layer.group_send(self.group, event)
            return
        layer.publish_local(self.group, event)
        async with self._lock:
            now = time.monotonic()
            if fresh or self._read_at is None or now - self._read_at >= self.REREAD:
                self.remote = await layer.remote_members(self.group)
                self._read_at = now
            await layer.send_each(self.remote, event)

    async def snapshot_to(self, channel: str, snapshot: Callable[[], ServerFrame]) -> None:
        """The answer so far, taken when it is sent, to the socket that asked."""
        layer = site_layer()
        if layer.is_local(channel):
            await layer.deliver(channel, frame_event(snapshot()))
            return
        async with self._lock:
            await layer.deliver(channel, frame_event(snapshot()))
            self.remote.add(channel)


async def generation_stop(*, message_id: int) -> None:
    """Ask the generation to stop, in whichever process it runs."""
    await channel_layer().group_send(generation_group(message_id), {"type": STOP})


async def generation_decide(*, message_id: int, run_id: str, approved: bool, user_id: int) -> None:
    """Tell the generation the user's decision on a tool call that waits for it."""
    await channel_layer().group_send(
        generation_group(message_id),
        {"type": APPROVE, "run_id": run_id, "approved": approved, "user_id": user_id},
    )


async def snapshot_request(*, message_id: int, reply_channel: str) -> None:
    """Ask the generation for the answer so far, to be sent to `reply_channel` alone."""
    await channel_layer().group_send(
        generation_group(message_id), {"type": SNAPSHOT, "reply_channel": reply_channel}
    )
