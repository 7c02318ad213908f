"""On SIGTERM the server saves answers being written as interrupted before it exits."""

import asyncio
import json
import signal

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
