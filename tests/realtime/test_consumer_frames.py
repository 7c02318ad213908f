import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chat.models import Conversation, Message
from chatsite.asgi import application
from tests.conftest import session_cookie
from tests.websocket import connect

pytestmark = pytest.mark.django_db(transaction=True)

BAD_FRAMES = [
    ("{not json", "invalid_json"),
    ("[1, 2]", "invalid_frame"),
    ('{"content": "no type"}', "invalid_frame"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": "send"}', "invalid_field"),
    ('{"type": "send", "content": 42}', "invalid_field"),
    ('{"type": "send", "content": "   "}', "invalid_field"),
    ('{"type": "send", "content": "hi", "conversation_id": "7"}', "invalid_field"),
    ('{"type": "send", "content": "hi", "conversation_id": true}', "invalid_field"),
    ('{"type": "send", "content": "hi", "conversation_id": -3}', "invalid_field"),
    ('{"type": "stop"}', "invalid_field"),
    ('{"type": "subscribe", "conversation_id": 1.5}', "invalid_field"),
]


@pytest.mark.parametrize(("text", "code"), BAD_FRAMES)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_usable(alice, text, code):
    ws = await connect(alice)
    await ws.send_to(text_data=text)
    error = await ws.receive_json_from()
    await ws.send_json_to({"type": "ping"})
    pong = await ws.receive_json_from()
    await ws.disconnect()

    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    assert pong == {"type": "pong"}
    assert not await Message.objects.aexists()
    assert not await Conversation.objects.aexists()


async def test_a_message_over_the_size_limit_is_refused_and_not_saved(alice, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 10
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "x" * 11})
    error = await ws.receive_json_from()
    await ws.disconnect()

    assert error["code"] == "too_long"
    assert "limit is 10" in error["message"]
    assert not await Message.objects.aexists()


async def test_binary_frames_are_refused_with_an_error(alice):
    ws = await connect(alice)
    await ws.send_to(bytes_data=b"\x00\x01")
    error = await ws.receive_json_from()
    await ws.disconnect()

    assert error["code"] == "invalid_frame"


async def test_an_anonymous_socket_is_refused_with_4401_after_the_handshake():
    # Accepted first: a socket closed during the handshake reaches the browser as HTTP 403,
    # without the code (tests/realtime/test_signed_out_socket.py checks it through daphne).
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    ws = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await ws.connect()
    closed = await ws.receive_output()
    await ws.send_json_to({"type": "ping"})
    after_the_close = await ws.receive_nothing()
    await ws.disconnect()
    assert connected is True
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4401
    assert after_the_close


async def test_a_socket_from_a_foreign_origin_is_refused(alice):
    cookie = await sync_to_async(session_cookie)(alice)
    headers = [(b"origin", b"http://evil.example"), (b"cookie", f"sessionid={cookie}".encode())]
    ws = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await ws.connect()
    assert connected is False
    await ws.disconnect()


async def test_frames_faster_than_the_limit_get_an_error_and_the_socket_recovers(alice, settings):
    settings.CHAT_FRAMES_PER_SECOND = 2
    settings.CHAT_FRAME_BURST = 3
    ws = await connect(alice)
    for _ in range(5):
        await ws.send_json_to({"type": "ping"})
    replies = [await ws.receive_json_from() for _ in range(5)]
    await asyncio.sleep(0.6)
    await ws.send_json_to({"type": "ping"})
    after_a_pause = await ws.receive_json_from()
    await ws.disconnect()

    assert [r["type"] for r in replies] == ["pong"] * 3 + ["error"] * 2
    assert replies[-1]["code"] == "rate_limited"
    assert after_a_pause == {"type": "pong"}


async def test_a_flood_of_frames_closes_the_socket_with_a_clear_code(alice, settings):
    settings.CHAT_FRAMES_PER_SECOND = 1
    settings.CHAT_FRAME_BURST = 2
    settings.CHAT_FRAME_ABUSE_LIMIT = 5
    ws = await connect(alice)
    for _ in range(10):
        await ws.send_json_to({"type": "ping"})
    frames = []
    while True:
        output = await ws.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            break
        frames.append(output)
    assert output["code"] == 4429
    assert not await Message.objects.aexists()


async def test_streaming_ids_must_be_a_short_list_of_ids(alice):
    ws = await connect(alice)
    await ws.send_json_to({"type": "subscribe", "conversation_id": 1, "streaming_ids": "7"})
    wrong_type = await ws.receive_json_from()
    await ws.send_json_to(
        {"type": "subscribe", "conversation_id": 1, "streaming_ids": list(range(1, 60))}
    )
    too_many = await ws.receive_json_from()
    await ws.disconnect()
    assert wrong_type["code"] == too_many["code"] == "invalid_field"


async def test_a_flood_is_closed_and_logged_once_and_the_frames_behind_it_are_ignored(
    alice, settings, caplog
):
    settings.CHAT_FRAMES_PER_SECOND = 1
    settings.CHAT_FRAME_BURST = 2
    settings.CHAT_FRAME_ABUSE_LIMIT = 5
    ws = await connect(alice)
    for _ in range(220):
        await ws.send_json_to({"type": "ping"})
    while (output := await ws.receive_output(timeout=2))["type"] != "websocket.close":
        pass
    after_the_close = await ws.receive_nothing(timeout=1)
    await ws.disconnect()

    floods = [r for r in caplog.records if "frame flood" in r.getMessage()]
    assert output["code"] == 4429
    assert len(floods) == 1
    assert after_the_close
