"""The benchmark's floor, bench/bare_relay.py, relays whole answers in the frames
bench.load reads, so its figures measure a working relay."""

import asyncio
import json

import websockets

from bench.servers import start_site
from tests.servers import FAKE_API_KEY, site_env, stop


async def test_the_bare_relay_streams_a_whole_answer_in_deltas_then_done(upstream):
    upstream.plan(tokens=30, delay=0.002)
    env = site_env(
        LLM_BASE_URL=upstream.base_url, LLM_API_KEY=FAKE_API_KEY, LLM_MODEL="chatsite-demo"
    )
    server, port = await asyncio.to_thread(start_site, env, "bench.bare_relay:application")
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send(json.dumps({"type": "send", "content": "bench"}))
            frames = []
            while not frames or frames[-1]["type"] != "done":
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    finally:
        stop(server)
    answer = "".join(f"t{i} " for i in range(30))
    deltas = [f for f in frames if f["type"] == "delta"]
    assert "".join(f["content"] for f in deltas) == answer
    assert [f["seq"] for f in deltas] == list(range(1, len(deltas) + 1))
    assert frames[-1] == {
        "type": "done",
        "message_id": 1,
        "status": "complete",
        "content": answer,
        "error": "",
    }
    assert [e["outcome"] for e in upstream.log()] == ["complete"]
