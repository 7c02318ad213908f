"""The load: N closed-loop clients, each asking for one answer after another until time is up.

The same load goes straight to the fake upstream (direct) and through chatsite (relay),
so every figure can be a ratio of the two, which holds on a noisy machine.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import websockets

from bench.servers import API_KEY

# A relayed answer that goes this long without a frame is lost: the run fails, saying so.
ANSWER_TIMEOUT = 30.0
# How the fake upstream writes a content delta (its chunks are compact JSON).
CONTENT_MARK = b'"delta":{"content":'


@dataclass(frozen=True)
class Sample:
    ttft: float  # seconds from asking to the first token
    tokens: int  # tokens delivered
    seconds: float  # seconds from asking to the end of the answer


async def direct(
    *, base_url: str, clients: int, seconds: float, stagger: float, key: str = API_KEY
) -> tuple[list[Sample], float]:
    """Streamed chat completions from an OpenAI-compatible API: the fake upstream itself,
    or chatsite's /v1 with a personal key."""
    url = httpx.URL(base_url)
    return await _run(
        clients, seconds, stagger, lambda _, deadline: _direct_client(url, deadline, key)
    )


async def _direct_client(url: httpx.URL, deadline: float, key: str) -> list[Sample]:
    """Plain HTTP/1.1 on a kept-alive socket, counting content chunks in the raw bytes.

    A general HTTP client's per-read overhead saturated a core at 20,000 tokens/s on
    this machine; the baseline must measure the upstream, not the client.
    """
    body = json.dumps(
        {
            "model": "chatsite-demo",
            "messages": [{"role": "user", "content": "bench"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ).encode()
    request = (
        f"POST {url.raw_path.decode()}/chat/completions HTTP/1.1\r\n"
        f"Host: {url.host}:{url.port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader, writer = await asyncio.open_connection(url.host, url.port)
    samples = []
    try:
        while time.monotonic() < deadline:
            started, first, tokens, tail = time.perf_counter(), None, 0, b""
            writer.write(request)
            while True:
                data = await reader.read(65536)
                if not data:
                    raise RuntimeError("the upstream closed the connection")
                found = data.count(CONTENT_MARK)
                if found:
                    first = first or time.perf_counter()
                    tokens += found
                # The chunked body ends with a zero-size chunk after [DONE].
                tail = (tail + data)[-64:]
                if b"[DONE]" in tail and tail.endswith(b"0\r\n\r\n"):
                    break
            samples.append(Sample(first - started, tokens, time.perf_counter() - started))
    finally:
        writer.close()
    return samples


async def relay(
    *,
    sites: list[str],
    cookies: list[str],
    seconds: float,
    stagger: float,
    follow_ups: bool = True,
) -> tuple[list[Sample], float]:
    """Client i talks to server process i mod len(sites) (each given as its base URL).
    With `follow_ups`, each client's answers after its first are follow-ups in one
    conversation (what people do most); else each answer starts a new conversation."""
    return await _run(
        len(cookies),
        seconds,
        stagger,
        lambda index, deadline: _relay_client(
            sites[index % len(sites)], cookies[index], deadline, follow_ups
        ),
    )


async def _relay_client(site: str, cookie: str, deadline: float, follow_ups: bool) -> list[Sample]:
    samples = []
    conversation_id = None
    async with _connect(site, cookie) as ws:
        while time.monotonic() < deadline:
            started, first = time.perf_counter(), None
            send = {"type": "send", "content": "bench", "conversation_id": conversation_id}
            await ws.send(json.dumps(send))
            seen: list[str] = []
            while True:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT))
                except TimeoutError:
                    raise RuntimeError(f"no frame for {ANSWER_TIMEOUT} s after {seen}") from None
                seen.append(f"{frame['type']}:{frame.get('seq', '')}")
                if frame["type"] == "conversation" and follow_ups:
                    conversation_id = frame["conversation"]["id"]
                elif frame["type"] == "delta" and frame.get("content"):
                    first = first or time.perf_counter()
                elif frame["type"] == "done":
                    if frame["status"] != "complete":
                        raise RuntimeError(f"an answer ended {frame['status']}: {frame['error']}")
                    tokens = len(frame["content"].split())
                    break
                elif frame["type"] == "error":
                    raise RuntimeError(f"chatsite refused: {frame}")
            samples.append(Sample(first - started, tokens, time.perf_counter() - started))
    return samples


@dataclass(frozen=True)
class StopSample:
    content: str  # the question, which tells its upstream request in the fake's log
    pressed_at: float  # time.time() when Stop was sent
    to_stopped: float  # seconds from Stop to the `stopped` frame


async def stop_latency(*, sites: list[str], cookies: list[str]) -> list[StopSample]:
    """Press Stop in one answer per client, all at once, after the first token.

    An answer that ended before its Stop arrived (a saturated server shows the first
    token late) is left out.
    """

    async def one(index: int, cookie: str) -> StopSample | None:
        content = f"stop-{index}"
        async with _connect(sites[index % len(sites)], cookie) as ws:
            await ws.send(json.dumps({"type": "send", "content": content}))
            while (frame := json.loads(await ws.recv()))["type"] != "delta":
                pass
            pressed, pressed_at = time.perf_counter(), time.time()
            await ws.send(json.dumps({"type": "stop", "message_id": frame["message_id"]}))
            while (frame := json.loads(await ws.recv()))["type"] != "done":
                pass
            if frame["status"] != "stopped":
                return None
            return StopSample(content, pressed_at, time.perf_counter() - pressed)

    samples = await asyncio.gather(*(one(i, c) for i, c in enumerate(cookies)))
    return [sample for sample in samples if sample is not None]


def upstream_close_delays(stops: list[StopSample], fake_log: list[dict]) -> list[float]:
    """Seconds from each Stop to the fake upstream seeing its request's connection close."""
    ended = {
        entry["body"]["messages"][-1]["content"]: entry["ended_at"]
        for entry in fake_log
        if entry["outcome"] == "disconnected"
    }
    return [ended[stop.content] - stop.pressed_at for stop in stops if stop.content in ended]


async def open_idle(*, sites: list[str], cookies: list[str], count: int) -> list:
    """Open `count` logged-in sockets, spread over the processes, that then stay silent."""
    sockets = []
    for start in range(0, count, 50):
        batch = [
            _connect(sites[i % len(sites)], cookies[i % len(cookies)]).__aenter__()
            for i in range(start, min(start + 50, count))
        ]
        sockets += await asyncio.gather(*batch)
    return sockets


async def close_all(sockets: list) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def _connect(site: str, cookie: str) -> websockets.connect:
    return websockets.connect(
        site.replace("http://", "ws://") + "/ws/chat/",
        origin=site,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        compression=None,  # measured plain: see docs/benchmarks.md
        max_size=None,
        open_timeout=30,
        ping_interval=None,
    )


async def _run(
    clients: int,
    seconds: float,
    stagger: float,
    client: Callable[[int, float], Awaitable[list[Sample]]],
) -> tuple[list[Sample], float]:
    """Client i starts i/N of `stagger` late: people do not all press Enter at once.

    With `stagger` the length of one answer, N streams run at once from then on.
    """
    started = time.monotonic()
    deadline = started + seconds

    async def staggered(index: int) -> list[Sample]:
        await asyncio.sleep(stagger * index / clients)
        return await client(index, deadline)

    results = await asyncio.gather(*(staggered(i) for i in range(clients)))
    return [s for samples in results for s in samples], time.monotonic() - started
