"""A server process killed outright (SIGKILL) while writing an answer: the sockets watching
it on another process learn within seconds, and the answer keeps its text so far and one
estimated usage row, however many sweeps look at it."""

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest

from tests.servers import (
    ROOT,
    FakeUpstreamServer,
    answer_watched,
    site_prepared,
    site_query,
    site_socket,
    sites_started,
    socket_frames_until,
    start_site,
    stop,
)

SAVED = """
from chat.models import Message, Usage
answer = Message.objects.get(role="assistant")
rows = Usage.objects.filter(message=answer)
result = {
    "status": answer.status,
    "content": answer.content,
    "rows": [[r.status, r.estimated, r.prompt_tokens, r.completion_tokens] for r in rows],
}
"""

services = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="several processes need PostgreSQL and Redis: the services pass (make test) runs it",
)


def recover(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "recover_streams", "--wait"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
    )


@services
async def test_sockets_on_another_process_learn_within_seconds_that_a_killed_process_is_gone(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=2000, delay=0.02)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    (a, port_a), (b, port_b) = await sites_started(env)
    try:
        async with site_socket(port_a, cookie) as on_a, site_socket(port_b, cookie) as on_b:
            await answer_watched(on_a, on_b)
            await socket_frames_until(on_b, "snapshot")
            await asyncio.sleep(2)  # the answer has been flushed at least once
            a.kill()
            killed = time.monotonic()
            seen = await socket_frames_until(on_b, "done", timeout=30)
            waited = time.monotonic() - killed
        # Another sweep after the watcher's (as at the next start) changes nothing.
        rerun = await asyncio.to_thread(recover(env).communicate, timeout=60)
        saved = await asyncio.to_thread(site_query, env, SAVED)
    finally:
        if a.poll() is None:
            a.kill()
        stop(b)

    done = seen[-1]
    print(f"the watching socket got its done frame {waited:.1f} s after the kill")
    assert waited < 10, f"the watchers waited {waited:.1f} s"
    assert done["status"] == "interrupted"
    assert done["content"].startswith("t0 t1 "), "with the text saved so far"
    assert done["content"] == saved["content"]
    assert done["usage"]["estimated"] is True
    assert done["usage"]["completion_tokens"] > 0
    assert saved["status"] == "interrupted"
    assert len(saved["rows"]) == 1, saved["rows"]
    assert saved["rows"][0][:2] == ["interrupted", True]
    assert saved["rows"][0][2] > 0
    assert saved["rows"][0][3] > 0
    assert b"0 answer(s) marked interrupted." in rerun[0]


async def test_recover_streams_at_start_marks_a_killed_process_s_answer_with_one_usage_row(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=2000, delay=0.02)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    site, port = await asyncio.to_thread(start_site, env)
    try:
        async with site_socket(port, cookie) as ws:
            await ws.send(json.dumps({"type": "send", "content": "write for a long time"}))
            await socket_frames_until(ws, "delta")
        # The answer outlives its socket (closing one to a killed server would take 10 s).
        await asyncio.sleep(2)  # flushed at least once
        site.kill()
        site.wait()
    finally:
        if site.poll() is None:
            site.kill()
    # Restarted at once, as the README and the Dockerfile start it; twice at the same time
    # (two containers, say): between them, exactly one row.
    started = time.monotonic()
    first, second = recover(env), recover(env)
    outputs = await asyncio.gather(
        asyncio.to_thread(first.communicate, timeout=60),
        asyncio.to_thread(second.communicate, timeout=60),
    )
    took = time.monotonic() - started
    saved = await asyncio.to_thread(site_query, env, SAVED)

    print(f"recover_streams took {took:.1f} s", outputs)
    assert b"Waiting" in outputs[0][0] + outputs[1][0], "it was not stale yet: recover waits"
    marked = [out.decode().strip().splitlines()[-1] for out, _ in outputs]
    assert sorted(marked) == ["0 answer(s) marked interrupted.", "1 answer(s) marked interrupted."]
    assert saved["status"] == "interrupted"
    assert saved["content"].startswith("t0 t1 ")
    assert len(saved["rows"]) == 1, saved["rows"]
    assert saved["rows"][0][:2] == ["interrupted", True]
    assert took < 15


@services
async def test_answers_silent_for_longer_than_the_threshold_but_alive_are_not_taken_for_dead(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    """The guard of the liveness check: no frame for 10 s (the provider pauses), but the
    heartbeat goes on, so the watchers on the other process leave all ten answers alone."""
    fake_upstream_server.reset()
    answers = 10
    for _ in range(answers):
        fake_upstream_server.plan(tokens=20, delay=0.01, stall_after=5, stall=10)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    (a, port_a), (b, port_b) = await sites_started(env)

    async def one(i: int) -> list[dict]:
        async with site_socket(port_a, cookie) as on_a, site_socket(port_b, cookie) as on_b:
            await answer_watched(on_a, on_b, f"pause {i}")
            return await socket_frames_until(on_b, "done", timeout=30)

    try:
        seen = await asyncio.gather(*(one(i) for i in range(answers)))
    finally:
        stop(a)
        stop(b)

    statuses = [frames[-1]["status"] for frames in seen]
    assert statuses == ["complete"] * answers
    assert all(frames[-1]["seq"] > 0 for frames in seen), "each done came from its generation"
