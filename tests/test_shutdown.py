"""On SIGTERM the server saves answers being written as interrupted before it exits."""

import asyncio
import json
import signal

import websockets

from tests.servers import (
    FakeUpstreamServer,
    site_env,
    site_manage,
    site_query,
    site_session,
    site_storage,
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
    env = site_env(
        **site_storage(tmp_path),
        LLM_BASE_URL=fake_upstream_server.base_url,
        LLM_API_KEY=fake_upstream_server.api_key,
        LLM_MODEL="chatsite-demo",
    )
    await asyncio.to_thread(site_manage, env, "migrate", "--noinput")
    cookie = await asyncio.to_thread(site_session, env)
    site, port = await asyncio.to_thread(start_site, env)
    try:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/chat/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"sessionid={cookie}"},
        ) as ws:
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
