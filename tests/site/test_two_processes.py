"""Two server processes on one PostgreSQL and one Redis: any process serves any viewer."""

import asyncio
import json
import os
import re

import httpx
import pytest

from tests.servers import (
    FakeUpstreamServer,
    answer_watched,
    site_prepared,
    site_socket,
    sites_started,
    socket_frames_until,
    stop,
)

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="several processes need PostgreSQL and Redis: the services pass (make test) runs it",
)


ASSISTANT_ON_PAGE = re.compile(
    r'data-role="assistant" data-status="(\w+)"[^>]*>\s*<div class="message-content">([^<]*)</div>'
)


async def test_an_answer_started_on_one_process_streams_and_stops_from_another(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=600, delay=0.01)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    (a, port_a), (b, port_b) = await sites_started(env)
    try:
        async with site_socket(port_a, cookie) as on_a, site_socket(port_b, cookie) as on_b:
            conversation_id, message_id = await answer_watched(on_a, on_b)
            snapshot = (await socket_frames_until(on_b, "snapshot"))[-1]
            live = [await socket_frames_until(on_b, "delta") for _ in range(3)]
            await on_b.send(json.dumps({"type": "stop", "message_id": message_id}))
            seen_by_b = await socket_frames_until(on_b, "done")
            done_on_a = (await socket_frames_until(on_a, "done"))[-1]

        pages = []
        async with httpx.AsyncClient(cookies={"sessionid": cookie}) as http:
            for port in (port_a, port_b):
                page = await http.get(f"http://127.0.0.1:{port}/c/{conversation_id}/")
                pages.append(page.text)
    finally:
        stop(a)
        stop(b)

    assert snapshot["content"].startswith("t0 "), "process B shows the text so far"
    assert [frames[-1]["seq"] for frames in live] == sorted(f[-1]["seq"] for f in live)
    assert live[0][-1]["seq"] > snapshot["seq"], "then continues live after the snapshot"
    assert seen_by_b[-1]["status"] == done_on_a["status"] == "stopped"
    assert seen_by_b[-1]["content"] == done_on_a["content"]
    assert fake_upstream_server.wait_for_outcome("disconnected")["outcome"] == "disconnected"
    assert fake_upstream_server.log()[-1]["chunks_sent"] < 600
    answers = [ASSISTANT_ON_PAGE.search(page).groups() for page in pages]
    assert answers == [("stopped", done_on_a["content"])] * 2, "either process serves it"
