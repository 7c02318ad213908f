"""The HTTP under the upstream client: one request to a provider, answered as a stream.

Two clients can carry it, chosen by LLM_HTTP_CLIENT:
- aiohttp (the default): its C parser and one buffered read per call cost about half of
  httpx's per token under load (docs/benchmarks.md, issue 14);
- httpx: the offline demo provider always (its in-process transport is an httpx one), and
  any provider when LLM_HTTP_CLIENT=httpx; the benchmark measures both.

Each client's failures are named here in the one vocabulary the caller knows (Broken),
so a stream that drops, stalls or is refused ends the same way whichever client read it.
One session (client) per process and event loop: tests that each run their own loop
stay safe.
"""

import asyncio
import contextlib
import enum
import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp
import httpx
from django.conf import settings

from chat.upstream.demo import demo_transport

AIOHTTP = "aiohttp"
HTTPX = "httpx"
HTTP_CLIENTS = (AIOHTTP, HTTPX)
# Every open stream holds a connection: keep room for many.
MAX_CONNECTIONS = 2000
# Few idle ones are kept: httpx's pool polls each idle socket on every request and release,
# which with a hundred kept cost a fifth of the event loop (docs/benchmarks.md).
KEEPALIVE_CONNECTIONS = 16
WRITE_TIMEOUT = 30.0  # seconds to write a request (images make some large)


class Broken(enum.Enum):
    """How a request failed on the way, before or while its answer was read."""

    REFUSED = "refused"  # no connection: refused, unreachable, name unknown
    CONNECT_TIMEOUT = "connect_timeout"  # no connection (or none free in the pool) in time
    STALLED = "stalled"  # connected, then nothing came for the read timeout
    DROPPED = "dropped"  # the connection broke (or the answer was not HTTP)


class TransportFailure(Exception):
    """A request that failed on the way; `sent` says whether the request had been written
    (the provider may have read it) before it failed."""

    def __init__(self, broken: Broken, *, sent: bool, detail: str) -> None:
        super().__init__(detail)
        self.broken = broken
        self.sent = sent
        self.detail = detail


class Answer(Protocol):
    """The provider's response: its status and headers at once, its body as it comes."""

    status_code: int
    reason: str
    headers: Mapping[str, str]

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def read(self) -> bytes: ...


def http_client_name(*, demo: bool) -> str:
    return HTTPX if demo else settings.LLM_HTTP_CLIENT


@contextlib.asynccontextmanager
async def request_answered(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    demo: bool = False,
) -> AsyncIterator[Answer]:
    """Send the request and yield its answer, open while the caller reads it; leaving
    early closes the connection (the provider sees the client go). Failures on the way,
    the body's reads included, raise TransportFailure."""
    content = None if body is None else _json_bytes(body)
    if content is not None:
        headers = {**headers, "Content-Type": "application/json"}
    if http_client_name(demo=demo) == AIOHTTP:
        async with _aiohttp_answered(method, url, headers, content) as answer:
            yield answer
    else:
        async with _httpx_answered(method, url, headers, content, demo=demo) as answer:
            yield answer


def _json_bytes(body: dict[str, Any]) -> bytes:
    # As httpx's json=: compact, UTF-8 as it is.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


# --- aiohttp ---------------------------------------------------------------------------

_sessions: dict[int, tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession, object]] = {}


async def _aiohttp_session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    entry = _sessions.get(id(loop))
    if entry is None or entry[0] is not loop or entry[1].closed:
        _forget_closed_loops(_sessions)
        # The certificates httpx trusts (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), and no
        # trust_env: with it aiohttp would also read ~/.netrc and send what it finds there.
        # Proxies come from the environment per request (_proxy_for). The timeouts are
        # given with each request (settings change in tests).
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, limit_per_host=0, ssl=httpx.create_ssl_context()
        )
        session = aiohttp.ClientSession(connector=connector)
        keeper = _closed_with_the_loop(session)
        await anext(keeper)
        _sessions[id(loop)] = (loop, session, keeper)
        entry = _sessions[id(loop)]
    return entry[1]


async def _closed_with_the_loop(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """Suspended for the session's life: an event loop that shuts down closes its open
    async generators (asyncio.run, pytest's loops), and this one then closes the
    session, which would otherwise warn that it was left open."""
    try:
        yield
    finally:
        await session.close()


class _AiohttpAnswer:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.reason = response.reason or ""
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        # Whatever the socket buffered since the last read, in one piece.
        content = self._response.content
        while True:
            try:
                data = await content.readany()
            except aiohttp.ClientError as exc:
                # aiohttp raises a broken connection before it hands over the bytes that
                # came before the break. The provider sent them (tokens, perhaps its
                # usage), so they are read first: the answer keeps them, and a stream
                # that had tokens is not retried.
                if rest := _buffered(content):
                    yield rest
                raise _aiohttp_failure(exc, answered=True) from None
            if not data:
                return
            yield data

    async def read(self) -> bytes:
        return await self._response.read()


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for this URL (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
    NO_PROXY), as httpx reads them."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed
    if not proxies or bypass(parts.hostname or "", proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def _forget_closed_loops(entries: dict[Any, Any]) -> None:
    """Drop the clients of event loops that have closed (each test runs its own)."""
    for key in [key for key, entry in entries.items() if entry[0].is_closed()]:
        del entries[key]


def _buffered(content: aiohttp.StreamReader) -> bytes:
    """What the reader holds unread, once it has failed. aiohttp has no public call for
    it (its reads raise first); a test with a break right after tokens proves it works
    on the version the lock pins."""
    return content._read_nowait(-1) if content._buffer else b""


@contextlib.asynccontextmanager
async def _aiohttp_answered(
    method: str, url: str, headers: dict[str, str], content: bytes | None
) -> AsyncIterator[Answer]:
    session = await _aiohttp_session()
    timeout = aiohttp.ClientTimeout(
        total=None,
        # `connect` bounds waiting for a free connection and making one, as httpx's pool
        # and connect timeouts do together.
        connect=settings.LLM_CONNECT_TIMEOUT,
        sock_connect=settings.LLM_CONNECT_TIMEOUT,
        sock_read=settings.LLM_READ_TIMEOUT,
    )
    answered = False
    try:
        # aiohttp has no write timeout (its read timeout starts once the request is
        # written): a provider that stops reading the request is given up after what
        # httpx allowed, to connect, write and wait for the answer's first bytes.
        async with _bounded(
            settings.LLM_CONNECT_TIMEOUT + WRITE_TIMEOUT + settings.LLM_READ_TIMEOUT
        ):
            response = await session.request(
                method,
                url,
                data=content,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                proxy=_proxy_for(url),
            )
        async with response:
            answered = True
            try:
                yield _AiohttpAnswer(response)
            finally:
                if not response.content.at_eof():
                    # Left early (Stop, an error): close, never hand a half-read
                    # connection back to the pool.
                    response.close()
    except aiohttp.ClientError as exc:
        raise _aiohttp_failure(exc, answered=answered) from None


@contextlib.asynccontextmanager
async def _bounded(seconds: float) -> AsyncIterator[None]:
    """At most `seconds`, else the request counts as stalled (it may have been sent)."""
    try:
        async with asyncio.timeout(seconds) as scope:
            yield
    except TimeoutError:
        if scope.expired():
            raise TransportFailure(Broken.STALLED, sent=True, detail="WriteTimeout") from None
        raise


def _aiohttp_failure(exc: aiohttp.ClientError, *, answered: bool) -> TransportFailure:
    detail = type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TransportFailure(Broken.CONNECT_TIMEOUT, sent=False, detail=detail)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        # The socket read timed out: the request was written and the answer awaited.
        return TransportFailure(Broken.STALLED, sent=True, detail=detail)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransportFailure(Broken.REFUSED, sent=False, detail=detail)
    if isinstance(exc, aiohttp.ClientOSError) and not answered:
        # Reset before any answer: mostly while the request was being written, which
        # httpx called a WriteError (not sent).
        return TransportFailure(Broken.DROPPED, sent=False, detail=detail)
    # Disconnected after reading the request, reset while answering, a payload cut
    # short, an answer that is not HTTP: the provider had the request.
    return TransportFailure(Broken.DROPPED, sent=True, detail=detail)


# --- httpx -----------------------------------------------------------------------------

_clients: dict[tuple[int, bool], tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}


def httpx_client(*, demo: bool = False) -> httpx.AsyncClient:
    """The process's shared httpx client for the running event loop."""
    loop = asyncio.get_running_loop()
    key = (id(loop), demo)
    entry = _clients.get(key)
    if entry is None or entry[0] is not loop or entry[1].is_closed:
        _forget_closed_loops(_clients)
        client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=KEEPALIVE_CONNECTIONS
            ),
            transport=demo_transport() if demo else None,
        )
        _clients[key] = (loop, client)
        entry = _clients[key]
    return entry[1]


class _HttpxAnswer:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.reason = response.reason_phrase
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.aiter_bytes():
                yield data
        except httpx.TransportError as exc:
            raise _httpx_failure(exc, answered=True) from None

    async def read(self) -> bytes:
        return await self._response.aread()


@contextlib.asynccontextmanager
async def _httpx_answered(
    method: str, url: str, headers: dict[str, str], content: bytes | None, *, demo: bool
) -> AsyncIterator[Answer]:
    client = httpx_client(demo=demo)
    timeout = httpx.Timeout(
        connect=settings.LLM_CONNECT_TIMEOUT,
        read=settings.LLM_READ_TIMEOUT,
        write=WRITE_TIMEOUT,
        pool=settings.LLM_CONNECT_TIMEOUT,
    )
    answered = False
    try:
        async with client.stream(
            method, url, content=content, headers=headers, timeout=timeout
        ) as response:
            answered = True
            yield _HttpxAnswer(response)
    except httpx.TransportError as exc:
        raise _httpx_failure(exc, answered=answered) from None


def _httpx_failure(exc: httpx.TransportError, *, answered: bool) -> TransportFailure:
    detail = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransportFailure(Broken.CONNECT_TIMEOUT, sent=False, detail=detail)
    if isinstance(exc, httpx.TimeoutException):
        # Waiting for the answer, the request was sent.
        sent = answered or isinstance(exc, httpx.ReadTimeout)
        return TransportFailure(Broken.STALLED, sent=sent, detail=detail)
    if isinstance(exc, httpx.ConnectError):
        return TransportFailure(Broken.REFUSED, sent=False, detail=detail)
    # Broken while reading the answer: the request was sent.
    sent = answered or isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError)
    return TransportFailure(Broken.DROPPED, sent=sent, detail=detail)
