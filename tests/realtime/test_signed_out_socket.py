"""A socket without a live session is told so with close code 4401, as daphne sends it:
closed before the handshake it would be an HTTP 403, which a browser cannot tell apart
from a network failure. One real site (daphne, as served) and a real websocket client."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.servers import (
    FakeUpstreamServer,
    site_prepared,
    site_query,
    site_socket,
    start_site,
    stop,
)

Site = tuple[dict[str, str], str, int]


@pytest.fixture(scope="module")
def site(
    fake_upstream_server: FakeUpstreamServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A served site, its environment, a signed-in user's session key and its port."""
    workdir: Path = tmp_path_factory.mktemp("signed-out-site")
    env, cookie = site_prepared(fake_upstream_server, workdir)
    process, port = start_site(env)
    yield env, cookie, port
    stop(process)


async def test_a_socket_without_a_session_is_accepted_then_closed_with_4401(site: Site):
    _, _, port = site
    async with site_socket(port, None) as ws:
        handshake = ws.response.status_code
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)

    assert handshake == 101, "accepted first: a refused handshake reaches the page as 403"
    assert closed.value.rcvd is not None, "the server sent a close frame"
    assert closed.value.rcvd.code == 4401


async def test_a_socket_whose_session_ended_is_closed_with_4401(site: Site):
    env, cookie, port = site
    async with site_socket(port, cookie) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        signed_in = json.loads(await asyncio.wait_for(ws.recv(), 10))
    code = "from django.contrib.sessions.models import Session\n"
    code += f"result = Session.objects.filter(session_key={cookie!r}).delete()[0]"
    deleted = await asyncio.to_thread(site_query, env, code)
    async with site_socket(port, cookie) as ws:
        handshake = ws.response.status_code
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)

    assert signed_in == {"type": "pong"}
    assert deleted == 1
    assert handshake == 101
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
