"""PostgreSQL stopped and started under two server processes (a cluster of the test's own):
nothing typed or written is lost, sockets stay usable, pages say "try again"."""

import asyncio
import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.pgcluster import PostgresCluster
from tests.servers import (
    FakeUpstreamServer,
    site_env,
    site_manage,
    site_query,
    site_sessions,
    site_socket,
    sites_started,
    socket_next_frame,
    start_site,
    stop,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="two processes need Redis: the services pass (make test) runs it",
)

SAVED = """
from chat.models import Message, Usage
result = [
    [m.status, m.content, Usage.objects.filter(message=m).count()]
    for m in Message.objects.filter(role="assistant").order_by("pk")
]
"""


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    yield cluster
    cluster.close()


def sites_on(cluster: PostgresCluster, fake: FakeUpstreamServer) -> tuple[dict[str, str], str]:
    env = site_env(
        DATABASE_URL=cluster.url,
        REDIS_URL=os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/1",
        LLM_BASE_URL=fake.base_url,
        LLM_API_KEY=fake.api_key,
        LLM_MODEL="chatsite-demo",
    )
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    return env, site_sessions(env, 1)[0]


async def open_while_down(port: int, cookie: str) -> str:
    """What a socket opened now gets: 'open', 'closed <code>' or 'http <status>'."""
    try:
        async with site_socket(port, cookie) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return f"closed {closed.rcvd.code if closed.rcvd else None}"
            return "open"
    except websockets.InvalidStatus as refused:
        return f"http {refused.response.status_code}"


async def test_a_restart_loses_nothing_and_a_send_meanwhile_waits_and_succeeds(
    fake_upstream_server: FakeUpstreamServer, cluster: PostgresCluster
):
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=400, delay=0.02)  # about 8 s: across the restart
    env, cookie = await asyncio.to_thread(sites_on, cluster, fake_upstream_server)
    (a, port_a), (b, port_b) = await sites_started(env)
    try:
        async with site_socket(port_a, cookie) as on_a, site_socket(port_b, cookie) as on_b:
            await on_a.send(json.dumps({"type": "send", "content": "a long one"}))
            await socket_next_frame(on_a, {"delta"})
            await asyncio.sleep(1.6)  # flushed once

            await asyncio.to_thread(cluster.stop)
            down = time.monotonic()
            await on_b.send(json.dumps({"type": "send", "content": "sent while it was down"}))
            async with httpx.AsyncClient(cookies={"sessionid": cookie}) as http:
                page, socket_opened = await asyncio.gather(
                    http.get(f"http://127.0.0.1:{port_a}/"), open_while_down(port_b, cookie)
                )
            await asyncio.sleep(max(0.0, 2 - (time.monotonic() - down)))
            await asyncio.to_thread(cluster.start)

            reply = await socket_next_frame(on_b, {"conversation", "error"})
            done_b = await socket_next_frame(on_b, {"done"})
            done_a = await socket_next_frame(on_a, {"done"})
            await on_b.send(json.dumps({"type": "ping"}))
            pong = await socket_next_frame(on_b, {"pong"})
        saved = await asyncio.to_thread(site_query, env, SAVED)
    finally:
        stop(a)
        stop(b)

    assert page.status_code == 503, page.status_code
    assert "try again" in page.text.lower()
    assert page.headers.get("Retry-After")
    assert not socket_opened.startswith("http"), socket_opened
    assert reply["type"] == "conversation", reply  # the send waited for the database
    assert done_b["status"] == "complete"
    assert pong == {"type": "pong"}
    expected = " ".join(f"t{i}" for i in range(400))
    assert done_a["status"] == "complete"
    assert done_a["content"].strip() == expected
    assert saved[0] == ["complete", done_a["content"], 1], "saved complete, one usage row"
    assert saved[1][0] == "complete"
    assert saved[1][1] == done_b["content"]


async def test_a_send_while_the_database_stays_down_gets_an_error_and_the_socket_stays_open(
    fake_upstream_server: FakeUpstreamServer, cluster: PostgresCluster
):
    fake_upstream_server.reset()
    env, cookie = await asyncio.to_thread(sites_on, cluster, fake_upstream_server)
    site, port = await asyncio.to_thread(start_site, env)
    try:
        async with site_socket(port, cookie) as ws:
            await asyncio.to_thread(cluster.stop)
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "send", "content": "nobody saves this"}))
            refused = await socket_next_frame(ws, {"error", "conversation"})
            waited = time.monotonic() - sent
            await ws.send(json.dumps({"type": "stop", "message_id": 1}))
            stop_refused = await socket_next_frame(ws, {"error"})
            await ws.send(json.dumps({"type": "subscribe", "conversation_id": 1}))
            subscribe_refused = await socket_next_frame(ws, {"error"})
            await ws.send(json.dumps({"type": "ping"}))
            pong = await socket_next_frame(ws, {"pong"})
            await asyncio.to_thread(cluster.start)
            await ws.send(json.dumps({"type": "send", "content": "and now?"}))
            started = await socket_next_frame(ws, {"error", "conversation"})
            done = await socket_next_frame(ws, {"done"})
        saved = await asyncio.to_thread(site_query, env, SAVED)
    finally:
        stop(site)

    print(f"the refusal came {waited:.1f} s after the send")
    assert refused["type"] == "error"
    assert refused["code"] == "unavailable"
    assert "not saved" in refused["message"]
    assert waited < 10
    assert stop_refused["code"] == subscribe_refused["code"] == "unavailable"
    assert pong == {"type": "pong"}
    assert started["type"] == "conversation"
    assert done["status"] == "complete"
    assert [row[0] for row in saved] == ["complete"]
