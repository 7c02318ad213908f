"""One log line per request, per websocket and per generation: ids and timings, never
message contents or keys."""

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.servers import FAKE_API_KEY
from tests.websocket import connect, receive_until


@pytest.mark.django_db
def test_a_request_is_logged_with_its_id_status_time_and_user(alice, caplog):
    client = Client()
    client.force_login(alice)
    with caplog.at_level(logging.INFO, logger="chat.requests"):
        response = client.get(reverse("chat:home"), {"q": "private search words"})

    (line,) = [r.getMessage() for r in caplog.records if r.name == "chat.requests"]
    assert re.fullmatch(
        rf"request id=[0-9a-f]{{16}} method=GET path=/ status=200 ms=[\d.]+ user={alice.pk}", line
    )
    assert response.headers["X-Request-ID"] in line
    assert "private" not in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_a_generation_and_its_socket_are_logged_without_contents(upstream, alice, caplog):
    upstream.plan(tokens=3)
    with caplog.at_level(logging.INFO):
        ws = await connect(alice)
        await ws.send_json_to({"type": "send", "content": "my secret question"})
        done = (await receive_until(ws, "done"))[-1]
        await ws.disconnect()

    generation = next(
        r.getMessage() for r in caplog.records if r.name == "chat.realtime.generation"
    )
    assert f"message={done['message_id']} " in generation
    assert f"user={alice.pk} " in generation
    assert "status=complete" in generation
    assert re.search(r"ttft_ms=\d+ duration_ms=\d+", generation)
    websocket = next(r.getMessage() for r in caplog.records if "websocket user=" in r.getMessage())
    assert f"user={alice.pk} " in websocket
    assert "frames_in=1" in websocket
    assert "secret question" not in caplog.text
    assert "t0 t1" not in caplog.text
    assert FAKE_API_KEY not in caplog.text
