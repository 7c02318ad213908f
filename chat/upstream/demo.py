"""The offline demo provider: the project's fake upstream, called in-process.

httpx's own ASGITransport waits for the whole response before returning it, which would
hide streaming, so this small transport hands the body over chunk by chunk.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from chat.fake_upstream.app import FakeUpstream

_END = object()


class _AsgiBody(httpx.AsyncByteStream):
    def __init__(self, queue: asyncio.Queue[Any], task: asyncio.Task[None], gone: asyncio.Event):
        self._queue = queue
        self._task = task
        self._gone = gone

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._queue.get()
            if message is _END:
                return
            if isinstance(message, BaseException):
                raise httpx.RemoteProtocolError(str(message))
            if message.get("body"):
                yield message["body"]
            if not message.get("more_body", False):
                return

    async def aclose(self) -> None:
        # Tell the app its client went away, as a real server would.
        self._gone.set()
        if not self._task.done():
            await asyncio.wait({self._task}, timeout=1.0)
            self._task.cancel()


class StreamingAsgiTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        gone = asyncio.Event()
        body_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            await queue.put(message)

        async def run() -> None:
            try:
                await self.app(_scope(request), receive, send)
            except Exception as exc:  # the app failed: the client sees a broken stream
                await queue.put(exc)
            finally:
                await queue.put(_END)

        task = asyncio.create_task(run())
        start = await queue.get()
        if start is _END or isinstance(start, BaseException):
            raise httpx.RemoteProtocolError("the demo provider sent no response")
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        return httpx.Response(
            start["status"], headers=headers, stream=_AsgiBody(queue, task, gone), request=request
        )


def _scope(request: httpx.Request) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.url.scheme,
        "path": request.url.path,
        "raw_path": request.url.raw_path,
        "query_string": request.url.query,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "server": (request.url.host, request.url.port or 80),
        "client": ("127.0.0.1", 0),
    }


_demo_app = FakeUpstream(token_delay=0.03)


def demo_transport() -> StreamingAsgiTransport:
    return StreamingAsgiTransport(_demo_app)
