"""JSON nested far too deep is refused with a clear error, over the socket and over HTTP,
and nothing breaks: the socket answers its next frame."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from chat.models import Conversation
from tests.servers import FakeUpstreamServer, site_prepared, site_socket, start_site, stop

DEEP = "[" * 100_000 + "]" * 100_000
JUST_TOO_DEEP = "[" * 33 + "]" * 33


@pytest.fixture(scope="module")
def site(fake_upstream_server: FakeUpstreamServer, tmp_path_factory) -> Iterator[tuple[int, str]]:
    """chatsite served by daphne, as in production: its port and a user's session."""
    env, cookie = site_prepared(fake_upstream_server, Path(tmp_path_factory.mktemp("site")))
    process, port = start_site(env)
    yield port, cookie
    stop(process)


async def _reply_then_pong(site: tuple[int, str], text: str) -> tuple[dict, dict]:
    port, cookie = site
    async with site_socket(port, cookie) as ws:
        await ws.send(text)
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.send(json.dumps({"type": "ping"}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return reply, pong


@pytest.mark.parametrize("text", [DEEP, JUST_TOO_DEEP], ids=["100000 levels", "33 levels"])
async def test_a_deeply_nested_frame_gets_an_error_and_the_socket_stays_open(site, text):
    reply, pong = await _reply_then_pong(site, text)
    assert reply["type"] == "error"
    assert reply["code"] == "invalid_json"
    assert "levels deep" in reply["message"]
    assert pong == {"type": "pong"}


async def test_deeply_nested_settings_in_a_send_get_an_error_and_the_socket_stays_open(site):
    text = '{"type": "send", "content": "hi", "settings": {"seed": ' + DEEP + "}}"
    reply, pong = await _reply_then_pong(site, text)
    assert reply["type"] == "error"
    assert reply["code"] == "invalid_json"
    assert pong == {"type": "pong"}


@pytest.fixture
def json_urls(alice) -> list[str]:
    conversation = Conversation.objects.create(user=alice, title="Kept")
    return [
        reverse("chat:settings_check"),
        reverse("chat:rename", args=[conversation.pk]),
        reverse("chat:conversation_settings", args=[conversation.pk]),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP, JUST_TOO_DEEP], ids=["100000 levels", "33 levels"])
def test_every_json_view_answers_a_deeply_nested_body_with_400(client, alice, json_urls, body):
    client.force_login(alice)
    for url in json_urls:
        response = client.post(url, body, content_type="application/json")
        assert (url, response.status_code) == (url, 400)
        assert response.json()["ok"] is False
        assert "levels deep" in response.json()["error"]
    assert Conversation.objects.get().title == "Kept"
