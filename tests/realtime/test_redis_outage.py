"""Redis stops for 5 s and starts again, empty, while answers stream on two processes;
Redis drops every connection but keeps running; /healthz beside an idle socket.

The real thing: our own redis-server (stopped and started by the test), two daphne
processes on it and one PostgreSQL, the fake upstream over HTTP, and pages that follow
the browser's protocol rules (tests/pages.py).
"""

import asyncio
import os
import subprocess
import time

import httpx
import pytest

from tests.pages import Page
from tests.servers import (
    FakeUpstreamServer,
    site_on_own_redis,
    site_query,
    site_sessions,
    sites_started,
    start_site,
    stop,
)

several_processes = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"),
    reason="several processes need PostgreSQL: the services pass (make test) runs it",
)

TOKENS = 400
DELAY = 0.025  # 400 tokens: about 10 s each


def expected(tokens: int) -> str:
    return "".join(f"t{i} " for i in range(tokens))


async def healthy_after(port: int, since: float, timeout: float = 15.0) -> float:
    """Seconds from `since` until /healthz answers 200."""
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() - since < timeout:
            try:
                response = await http.get(f"http://127.0.0.1:{port}/healthz")
                if response.status_code == 200:
                    return time.monotonic() - since
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz on {port} not 200 within {timeout} s of Redis returning")


@several_processes
async def test_answers_sockets_stop_and_health_survive_a_redis_restart(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake = fake_upstream_server
    fake.reset()
    redis, env, _ = await asyncio.to_thread(site_on_own_redis, fake, tmp_path)
    cookies = await asyncio.to_thread(site_sessions, env, 13)
    (a, port_a), (b, port_b) = await sites_started(env)
    ports = [port_a, port_b]
    until = time.monotonic() + 90
    tasks: list[asyncio.Task[None]] = []

    def page(index: int, port: int) -> Page:
        p = Page(port, cookies[index])
        tasks.append(asyncio.create_task(p.run(until)))
        return p

    try:
        # One long answer on B, to be stopped after the outage; four others, two each.
        long_page = page(0, port_b)
        fake.plan(tokens=5000, delay=DELAY)
        await long_page.send({"type": "send", "content": "long"})
        await long_page.wait_for(lambda: long_page.answers, 10, "the long answer starts")
        (long_id,) = long_page.answers
        streaming = [page(1 + i, ports[i % 2]) for i in range(4)]
        for p in streaming:
            fake.plan(tokens=TOKENS, delay=DELAY)
            await p.send({"type": "send", "content": "stream"})
        for p in streaming:
            await p.wait_for(lambda p=p: p.answers and p.frames[-1]["type"] == "delta", 10, "d")
        # A second page of each answer, on the other process.
        watchers = []
        for i, p in enumerate(streaming):
            w = page(1 + i, ports[(i + 1) % 2])
            w.conversation_id = p.conversation_id
            watchers.append(w)
        await asyncio.sleep(1.5)

        redis.stop()
        await asyncio.sleep(1)
        during = page(12, port_a)  # a send while Redis is down is answered once it is back
        fake.plan(tokens=40, delay=0.005)
        await during.send({"type": "send", "content": "during"})
        await asyncio.sleep(4)
        redis.start()
        back = time.monotonic()

        health = await asyncio.gather(*(healthy_after(port, back) for port in ports))
        await asyncio.sleep(max(0.0, 2 - (time.monotonic() - back)))
        await long_page.opened.wait()
        await long_page.send({"type": "stop", "message_id": long_id})
        stopped = await long_page.wait_done(long_id, 10)
        stop_took = time.monotonic() - back

        # Eight new answers after the outage, four per process.
        fresh = [page(5 + i, ports[i % 2]) for i in range(8)]
        for p in fresh:
            fake.plan(tokens=40, delay=0.005)
            await p.send({"type": "send", "content": "after"})
        for p in [*streaming, *watchers, *fresh, during]:
            await p.wait_for(lambda p=p: p.answers, 20, "the answer appears")
            await p.wait_done(next(iter(p.answers)), 40)
        ids = [next(iter(p.answers)) for p in [*streaming, *fresh, during]]
        saved = await asyncio.to_thread(
            site_query,
            env,
            "from chat.models import Message\n"
            f"answers = Message.objects.filter(pk__in={ids})\n"
            "result = {m.pk: [m.status, m.content] for m in answers}",
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stop(a)
        stop(b)
        redis.stop()

    print(f"healthz 200 after {health} s; stop obeyed {stop_took:.1f} s after Redis returned")
    assert max(health) < 5, "/healthz works again within seconds"
    assert stopped["status"] == "stopped"
    assert stop_took < 6
    for p in [long_page, *streaming, *watchers, *fresh, during]:
        assert set(p.closes) <= {4503}, "sockets are told to resubscribe, never failed"
        assert not p.errors
    for p in [*streaming, *watchers]:
        (answer_id,) = p.answers
        answer = p.answers[answer_id]
        assert saved[str(answer_id)] == ["complete", expected(TOKENS)], "saved complete"
        assert answer.done["content"] == expected(TOKENS)
        if answer.done["seq"]:  # the live done: the page had built the whole text itself
            assert answer.built == expected(TOKENS), "snapshots and deltas: no gap"
    (answer_id,) = during.answers
    assert during.answers[answer_id].done["status"] == "complete"
    assert saved[str(answer_id)] == ["complete", expected(40)]
    for p in fresh:
        (answer_id,) = p.answers
        assert p.answers[answer_id].done["status"] == "complete"
        assert saved[str(answer_id)] == ["complete", expected(40)]
        assert p.answers[answer_id].built == expected(40)


async def test_health_is_200_beside_an_idle_socket_and_soon_after_redis_returns(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    redis, env, cookie = await asyncio.to_thread(site_on_own_redis, fake_upstream_server, tmp_path)
    site, port = await asyncio.to_thread(start_site, env)
    idle = Page(port, cookie)
    reading = asyncio.create_task(idle.run(time.monotonic() + 60))
    try:
        await idle.opened.wait()
        async with httpx.AsyncClient(timeout=10) as http:
            beside_idle = [
                (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code for _ in range(3)
            ]
            redis.stop()
            down = (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code
            redis.start()
            back = await healthy_after(port, time.monotonic())
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        stop(site)
        redis.stop()

    assert beside_idle == [200, 200, 200], "an idle socket does not hold up the check"
    assert down == 503
    assert back < 3


async def test_connections_dropped_by_a_running_redis_close_no_socket_and_lose_nothing(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake = fake_upstream_server
    fake.reset()
    redis, env, cookie = await asyncio.to_thread(site_on_own_redis, fake, tmp_path)
    site, port = await asyncio.to_thread(start_site, env)
    until = time.monotonic() + 60
    writer, watcher = Page(port, cookie), Page(port, cookie)
    tasks = [asyncio.create_task(writer.run(until))]
    try:
        fake.plan(tokens=200, delay=DELAY)
        await writer.send({"type": "send", "content": "go"})
        await writer.wait_for(lambda: writer.answers, 10, "the answer starts")
        watcher.conversation_id = writer.conversation_id
        tasks.append(asyncio.create_task(watcher.run(until)))
        await watcher.wait_for(lambda: watcher.answers, 10, "the watcher sees it")
        for _ in range(3):
            await asyncio.sleep(1)
            killed = await asyncio.to_thread(
                subprocess.run,
                ["redis-cli", "-p", str(redis.port), "CLIENT", "KILL", "TYPE", "normal"],
                capture_output=True,
                check=True,
            )
            assert int(killed.stdout) > 0, "chatsite's connections were dropped"
        (answer_id,) = writer.answers
        await writer.wait_done(answer_id, 20)
        await watcher.wait_done(answer_id, 5)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stop(site)
        redis.stop()

    whole = expected(200)
    for p in (writer, watcher):
        assert p.closes == [], "Redis kept its data: the sockets stay open"
        assert p.answers[answer_id].done["content"] == whole
        assert p.answers[answer_id].built == whole, "no delta lost"
        assert p.answers[answer_id].duplicates == 0
