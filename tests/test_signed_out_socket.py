"""A socket without a live session is told so with close code 4401, as daphne sends it:
closed before the handshake it would be an HTTP 403, which a browser cannot tell apart
from a network failure."""

import asyncio
import json

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


async def test_a_socket_whose_session_ended_is_closed_with_4401(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    site, port = await asyncio.to_thread(start_site, env)
    try:
        async with site_socket(port, cookie) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            signed_in = json.loads(await asyncio.wait_for(ws.recv(), 10))
        code = "from django.contrib.sessions.models import Session\n"
        code += f"result = Session.objects.filter(session_key={cookie!r}).delete()[0]"
        deleted = await asyncio.to_thread(site_query, env, code)
        async with site_socket(port, cookie) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
    finally:
        await asyncio.to_thread(stop, site)

    assert signed_in == {"type": "pong"}
    assert deleted == 1
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
