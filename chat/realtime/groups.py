"""Who hears what, across every process: the channel-layer groups and the events sent
through them.

A conversation's group holds every socket that shows it; a generation's group holds the
control channel of the task writing one answer, wherever it runs. Sockets publish to
neither directly: they ask through these functions, so the names and event types have
one owner.
"""

from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from chat.realtime.frames import ServerFrame

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


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def generation_group(message_id: int) -> str:
    return f"generation.{message_id}"


def frame_event(frame: ServerFrame) -> dict[str, Any]:
    """The channel-layer event that carries a frame to the sockets that receive it."""
    return {"type": FRAME, "frame": frame}


async def conversation_publish(conversation_id: int, frame: ServerFrame) -> None:
    """Send a frame to every socket watching the conversation, in any process."""
    await channel_layer().group_send(conversation_group(conversation_id), frame_event(frame))


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
