"""Many sockets and streams on one process and a real Redis: no frame lost or doubled.

Bounded for a small machine: 50 answers streaming at once, each watched by its sender
and four more pages that subscribe all at once mid-answer, beside 250 idle signed-in
sockets (500 sockets in all); /healthz is asked throughout.
"""

import asyncio
import os
import time

import httpx
import pytest

from tests.pages import Page
from tests.servers import FakeUpstreamServer, site_on_own_redis, site_sessions, start_site
from tests.servers import stop as stop_process

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"),
    reason="50 answers at once want PostgreSQL: the services pass (make test) runs it",
)

STREAMS = 50
WATCHERS = 4
IDLE = 250
TOKENS = 300


async def test_fifty_streams_among_five_hundred_sockets_lose_and_double_nothing(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake = fake_upstream_server
    fake.reset()
    redis, env, _ = await asyncio.to_thread(site_on_own_redis, fake, tmp_path)
    cookies = await asyncio.to_thread(site_sessions, env, STREAMS)
    log = (tmp_path / "site.log").open("wb")
    site, port = await asyncio.to_thread(start_site, env, stderr=log, stdout=log)
    until = time.monotonic() + 70
    tasks: list[asyncio.Task[None]] = []
    health: list[int] = []

    def page(cookie: str, conversation_id: int | None = None) -> Page:
        p = Page(port, cookie, conversation_id=conversation_id)
        tasks.append(asyncio.create_task(p.run(until)))
        return p

    async def ask_health() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while time.monotonic() < until:
                health.append((await http.get(f"http://127.0.0.1:{port}/healthz")).status_code)
                await asyncio.sleep(0.5)

    try:
        idle = [page(cookies[i % STREAMS]) for i in range(IDLE)]
        for p in idle:
            await p.opened.wait()
        asking = asyncio.create_task(ask_health())
        senders = [page(cookie) for cookie in cookies]
        for p in senders:
            fake.plan(tokens=TOKENS, delay=0.05)
            await p.send({"type": "send", "content": "go"})
        for p in senders:
            await p.wait_for(lambda p=p: p.conversation_id and p.answers, 20, "started")
        watchers = [
            page(cookies[i], senders[i].conversation_id)
            for i in range(STREAMS)
            for _ in range(WATCHERS)
        ]
        for p in [*senders, *watchers]:
            await p.wait_for(lambda p=p: p.answers, 30, "the answer is shown")
            await p.wait_done(next(iter(p.answers)), 50)
        asking.cancel()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stop_process(site)
        redis.stop()
        log.close()

    whole = "".join(f"t{i} " for i in range(TOKENS))
    logged = (tmp_path / "site.log").read_text()
    print(f"healthz: {len(health)} asked, {health.count(200)} ok")
    assert "Traceback" not in logged
    assert health
    assert set(health) == {200}
    for p in [*idle, *senders, *watchers]:
        assert p.closes == [], "no socket was closed"
    for p in [*senders, *watchers]:
        (answer,) = p.answers.values()
        assert answer.done["status"] == "complete"
        assert answer.done["content"] == whole
        assert answer.built == whole, "snapshot and deltas carried it all, in order"
        assert answer.duplicates == 0, "no delta twice"
