"""The one place chatsite talks HTTP to a provider.

One httpx.AsyncClient per process (per event loop, so tests that each run their own loop
stay safe), explicit timeouts, the stream parsed into typed events, and every failure
turned into UpstreamError.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from django.conf import settings

from chat.upstream.demo import demo_transport
from chat.upstream.errors import UpstreamError
from chat.upstream.events import StreamEvent
from chat.upstream.provider import Provider
from chat.upstream.sse import DONE, error_message, iter_sse_data, parse_chunk

logger = logging.getLogger(__name__)

_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_clients: dict[tuple[int, bool], tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}


def http_client(*, demo: bool = False) -> httpx.AsyncClient:
    """The process's shared client for the running event loop."""
    loop = asyncio.get_running_loop()
    key = (id(loop), demo)
    entry = _clients.get(key)
    if entry is None or entry[0] is not loop or entry[1].is_closed:
        timeout = httpx.Timeout(
            connect=settings.LLM_CONNECT_TIMEOUT,
            read=settings.LLM_READ_TIMEOUT,
            write=30.0,
            pool=settings.LLM_CONNECT_TIMEOUT,
        )
        # Every open stream holds a connection; keep room for many.
        limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
        client = httpx.AsyncClient(
            timeout=timeout,
            limits=limits,
            transport=demo_transport() if demo else None,
        )
        _clients[key] = (loop, client)
        entry = _clients[key]
    return entry[1]


class UpstreamClient:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.provider.api_key:
            headers["Authorization"] = f"Bearer {self.provider.api_key}"
        return headers

    def _url(self, path: str) -> str:
        # Base URLs end in /v1, /openai/v1 or anything else: only ever append.
        return f"{self.provider.base_url.rstrip('/')}/{path}"

    def _redact(self, text: str) -> str:
        key = self.provider.api_key
        return text.replace(key, "[redacted]") if key else text

    async def stream_chat(self, body: dict[str, Any]) -> AsyncIterator[StreamEvent]:
        """Stream one chat completion as typed events; ends after [DONE] or when the body ends.

        Leaving the iteration early (Stop, cancellation) closes the upstream connection.
        """
        payload = {**body, "stream": True, "stream_options": {"include_usage": True}}
        client = http_client(demo=self.provider.is_demo)
        try:
            async with client.stream(
                "POST", self._url("chat/completions"), json=payload, headers=self._headers()
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._status_error(response)
                async for data in iter_sse_data(response.aiter_lines()):
                    if data == DONE:
                        return
                    try:
                        events = parse_chunk(data)
                    except UpstreamError as exc:
                        raise UpstreamError(
                            self._redact(exc.message), retryable=exc.retryable
                        ) from None
                    for event in events:
                        yield event
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"The provider did not answer in time ({type(exc).__name__}).", retryable=True
            ) from None
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"Could not reach the provider ({type(exc).__name__}).", retryable=True
            ) from None

    async def list_models(self) -> list[str]:
        client = http_client(demo=self.provider.is_demo)
        try:
            response = await client.get(self._url("models"), headers=self._headers())
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Could not list the provider's models ({type(exc).__name__}).", retryable=True
            ) from None
        if response.status_code >= 400:
            raise self._status_error(response)
        try:
            data = response.json().get("data") or []
            return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]
        except (ValueError, AttributeError):
            raise UpstreamError(
                "The provider's model list is malformed.", retryable=False
            ) from None

    def _status_error(self, response: httpx.Response) -> UpstreamError:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        reason = response.reason_phrase or "error"
        message = self._redact(
            error_message(body, f"The provider answered {response.status_code} {reason}.")
        )
        logger.warning(
            "upstream %s answered %s: %s", self.provider.name, response.status_code, message
        )
        return UpstreamError(
            message,
            retryable=response.status_code in _RETRYABLE_STATUS,
            status_code=response.status_code,
        )
