"""On SIGTERM the server saves answers being written as interrupted before it exits."""

import asyncio
import json
import signal
import time

from tests.servers import (
    FakeUpstreamServer,
    site_prepared,
    site_query,
    site_socket,
    start_site,
)

QUERY = """
from chat.models import Message, Usage
answer = Message.objects.get(role="assistant")
result = {
    "status": answer.status,
    "content": answer.content,
    "error": answer.error,
    "usage_rows": Usage.objects.filter(message=answer).count(),
}
"""


async def test_sigterm_saves_the_answer_being_written_as_interrupted(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=1000, delay=0.02)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    site, port = await asyncio.to_thread(start_site, env)
    try:
        async with site_socket(port, cookie) as ws:
            await ws.send(json.dumps({"type": "send", "content": "write for a long time"}))
            deltas = 0
            while deltas < 5:
                deltas += json.loads(await ws.recv())["type"] == "delta"
            site.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(site.wait, 30)
    finally:
        if site.poll() is None:
            site.kill()

    saved = await asyncio.to_thread(site_query, env, QUERY)
    assert exit_code == 0
    assert saved["status"] == "interrupted"
    assert saved["content"].startswith("t0 t1 ")
    assert saved["error"] == "The server stopped while this answer was being written."
    assert saved["usage_rows"] == 1
    assert fake_upstream_server.log()[-1]["outcome"] == "disconnected"


def _title_streaming(fake: FakeUpstreamServer, timeout: float = 10.0) -> None:
    """Wait until the title request (the second) has sent its role chunk and two pieces."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = fake.log()
        if len(log) == 2 and log[1]["chunks_sent"] >= 3:
            return
        time.sleep(0.05)
    raise AssertionError("the title request did not start streaming")


TITLE_QUERY = """
from chat.models import Message, Usage
answer = Message.objects.get(role="assistant")
title = Usage.objects.filter(purpose="title")
result = {
    "answer": answer.status,
    "titles": [[u.status, u.prompt_tokens, u.estimated] for u in title],
}
"""


async def test_sigterm_during_the_title_request_still_records_its_usage(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=3)  # the answer
    fake_upstream_server.plan(tokens=5, stall_after=2, stall=30)  # the title, then silence
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    env["CHAT_AUTO_TITLES"] = "1"
    site, port = await asyncio.to_thread(start_site, env)
    try:
        async with site_socket(port, cookie) as ws:
            await ws.send(json.dumps({"type": "send", "content": "name this conversation"}))
            while json.loads(await ws.recv())["type"] != "done":
                pass
            await asyncio.to_thread(_title_streaming, fake_upstream_server)
            site.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(site.wait, 30)
    finally:
        if site.poll() is None:
            site.kill()

    saved = await asyncio.to_thread(site_query, env, TITLE_QUERY)
    assert exit_code == 0
    assert saved["answer"] == "complete"
    ((status, prompt_tokens, estimated),) = saved["titles"]
    assert (status, estimated) == ("interrupted", True)
    assert prompt_tokens > 0, "the provider read the title's prompt"
    assert fake_upstream_server.log()[-1]["outcome"] == "disconnected"
