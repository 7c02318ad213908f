"""A websocket client for consumer tests: the real ASGI stack, signed in by session cookie."""

from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chat.models import User
from chatsite.asgi import application
from tests.conftest import session_cookie


async def connect(user: User | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected, "the socket was refused"
    return communicator


async def receive_until(
    communicator: WebsocketCommunicator, frame_type: str, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Every frame up to and including the first of the given type."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


async def answer_started(
    communicator: WebsocketCommunicator, content: str = "hi"
) -> tuple[list[dict[str, Any]], int, int]:
    """Send a question in a new conversation and wait for the answer's first delta: the
    frames so far, the conversation's id and the answer's."""
    await communicator.send_json_to({"type": "send", "content": content})
    frames = await receive_until(communicator, "delta")
    return frames, frames[0]["conversation"]["id"], frames[-1]["message_id"]
