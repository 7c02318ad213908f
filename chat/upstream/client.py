"""The one place chatsite talks to a provider.

The HTTP is chat/upstream/transport.py's (aiohttp or httpx, with explicit timeouts); here
the stream is parsed into typed events, and every failure turned into UpstreamError.
Failures before the first token are retried here, bounded and with backoff; after it
never, since that would duplicate the answer and bill it twice.
"""

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings

from chat import texts
from chat.upstream.errors import FailureKind, UpstreamError
from chat.upstream.events import (
    TOKEN_EVENTS,
    ContentDelta,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    UsageReport,
)
from chat.upstream.provider import Provider
from chat.upstream.sse import (
    DONE,
    SseDecoder,
    chunk_events,
    chunk_parse,
    error_message,
    parse_chunk,
)
from chat.upstream.think import ThinkSplitter
from chat.upstream.transport import Answer, Broken, TransportFailure, request_answered

logger = logging.getLogger(__name__)

# httpx yields each HTTP chunk of a network read on its own (aiohttp a read's bytes at
# once): a piece that took longer than this to come was waited for on the network; one
# from the same read comes at once.
NETWORK_WAIT = 0.0002
_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Base URLs of providers that refused `stream_options` (remembered for this process).
_without_stream_options: set[str] = set()


@dataclass(frozen=True)
class RelayedChunk:
    """One chunk of a relayed stream: the provider's JSON as it came (`payload`), parsed
    (`chunk`), and the events chatsite reads in it (usage, tokens)."""

    payload: bytes
    chunk: dict[str, Any]
    events: list[StreamEvent]

    @property
    def has_tokens(self) -> bool:
        return any(isinstance(event, TOKEN_EVENTS) for event in self.events)


# What one attempt of a stream yields: events (stream_chat) or chunks (relay_chat).
Streamed = TypeVar("Streamed")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # in all, the first included
    base_delay: float  # doubled each time, with jitter
    max_wait: float  # the most time spent waiting between attempts, in all

    @classmethod
    def from_settings(cls) -> "RetryPolicy":
        return cls(
            attempts=settings.LLM_RETRY_ATTEMPTS,
            base_delay=settings.LLM_RETRY_BASE_DELAY,
            max_wait=settings.LLM_RETRY_MAX_WAIT,
        )

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        backoff = self.base_delay * 2.0 ** (attempt - 1)
        return backoff * (0.75 + random.random() / 2)  # noqa: S311 - jitter, not secrets


class UpstreamClient:
    def __init__(
        self, provider: Provider, retry: RetryPolicy | None = None, read_every: float = 0.0
    ) -> None:
        self.provider = provider
        self.retry = retry or RetryPolicy.from_settings()
        # Once tokens flow, the body is read about this often: what arrives in between
        # waits in the socket's buffer and comes in one read, not one read per token.
        # The event loop's and the HTTP client's cost per read was the relay's largest.
        self.read_every = read_every
        # Whether the latest request went to the provider and was not given up for a
        # retry: false before the first is sent and while waiting to retry. The caller's
        # last usage row is for that request, so without it there is none.
        self.request_sent = False
        self._splitter = ThinkSplitter()

    async def stream_chat(self, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        """Stream one chat completion as typed events, retrying what may be retried.

        Each failed attempt before the first token is announced with a Retrying event.
        Leaving the iteration early (Stop, cancellation) closes the upstream connection.
        """
        async for event in self._retrying(
            lambda with_usage: self._stream_once(body, with_usage=with_usage),
            lambda event: isinstance(event, TOKEN_EVENTS),
        ):
            yield event

    async def relay_chat(
        self, body: dict[str, Any]
    ) -> AsyncGenerator["RelayedChunk | Retrying", None]:
        """Stream one chat completion chunk by chunk as the provider sent it (for the
        site's API, which passes chunks on), with what chatsite reads in each; retried
        like stream_chat, and closed the same way when the caller leaves."""
        async for item in self._retrying(
            lambda with_usage: self._relay_once(body, with_usage=with_usage),
            lambda item: item.has_tokens,
        ):
            yield item

    async def _retrying(
        self,
        once: Callable[[bool], AsyncIterator[Streamed]],
        has_tokens: Callable[[Streamed], bool],
    ) -> AsyncGenerator[Streamed | Retrying, None]:
        """Attempts of `once` (given whether to ask for the usage chunk) until one ends,
        retrying what may be retried: only before the first token."""
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            with_usage = self.provider.base_url not in _without_stream_options
            tokens_seen = False
            try:
                async for event in once(with_usage):
                    tokens_seen = tokens_seen or has_tokens(event)
                    yield event
                return
            except UpstreamError as exc:
                failure = exc
            if with_usage and _refuses_stream_options(failure):
                # Asked once more without it; usage is then estimated.
                _without_stream_options.add(self.provider.base_url)
                logger.warning("provider %s refuses stream_options", self.provider.name)
                self.request_sent = False
                yield Retrying(attempt, 0.0, failure.message, failure.status_code)
                continue
            if tokens_seen or not failure.retryable or attempt >= self.retry.attempts:
                raise failure
            delay = self.retry.delay(attempt, failure.retry_after)
            if waited + delay > self.retry.max_wait:
                raise failure
            waited += delay
            logger.info(
                "provider %s failed (%s), retrying in %.1f s", self.provider.name, failure, delay
            )
            self.request_sent = False
            yield Retrying(attempt, delay, failure.message, failure.status_code, failure.reached)
            await asyncio.sleep(delay)

    async def _relay_once(
        self, body: dict[str, Any], *, with_usage: bool
    ) -> AsyncGenerator["RelayedChunk", None]:
        self.request_sent = True
        async with self._answered(body, with_usage=with_usage) as response:
            decoder, done = SseDecoder(), False
            chunks = response.chunks()
            async for data in chunks:
                for payload in decoder.feed(data):
                    if payload == DONE:
                        done = True
                        break
                    yield self._relayed(payload)
                if done:
                    break
            if done:
                await _read_to_end(chunks)

    @contextlib.asynccontextmanager
    async def _answered(self, body: dict[str, Any], *, with_usage: bool) -> AsyncIterator[Answer]:
        """The provider's streaming response to the request, once it answered 200 (an
        HTTP error is raised as UpstreamError), with connection failures while it is read
        turned into UpstreamError too."""
        # Once the provider answered 200 it has read the prompt: a failure after that is
        # billed (FailedAttempt, GenerationResult.billable).
        answered = False
        try:
            async with request_answered(
                "POST",
                self._url("chat/completions"),
                headers=self._headers(),
                body=_streamed(body, with_usage=with_usage),
                demo=self.provider.is_demo,
            ) as response:
                if response.status_code >= 400:
                    raise await self._status_error(response)
                answered = True
                yield response
        except TransportFailure as exc:
            raise _transport_failure(exc, answered=answered) from None

    def _relayed(self, payload: bytes) -> "RelayedChunk":
        try:
            chunk = chunk_parse(payload)
            events = chunk_events(chunk)
        except UpstreamError as exc:
            raise self._redacted(exc) from None
        return RelayedChunk(payload=payload, chunk=chunk, events=events)

    async def _stream_once(
        self, body: dict[str, Any], *, with_usage: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        # A tail held back as the possible start of a <think> tag came from the provider
        # all the same: it is given back however the stream ends, before an error is
        # raised, and through held_back() when the caller leaves early (Stop).
        self._splitter = splitter = ThinkSplitter()
        self.request_sent = True
        try:
            async for event in self._read_once(body, splitter, with_usage=with_usage):
                yield event
        except UpstreamError:
            for piece in splitter.flush():
                yield piece
            raise
        for piece in splitter.flush():
            yield piece

    def held_back(self) -> list[ContentDelta | ReasoningDelta]:
        """What the last stream still held back when its caller left it early (Stop, a
        cancelled task): text the provider sent, for the caller to keep. Empty when the
        stream ended any other way, since it then yielded that text itself."""
        return self._splitter.flush()

    async def _read_once(
        self, body: dict[str, Any], splitter: ThinkSplitter, *, with_usage: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        async with self._answered(body, with_usage=with_usage) as response:
            chunks = response.chunks()
            answer = _Answer(splitter, self._redacted)
            resumed = time.monotonic()
            async for data in chunks:
                waited = time.monotonic() - resumed
                for event in answer.events(data):
                    yield event
                if answer.done:
                    break
                # The first token went on at once; what follows is read in batches.
                if answer.flowing and self.read_every and waited > NETWORK_WAIT:
                    await asyncio.sleep(self.read_every)
                resumed = time.monotonic()
            if answer.done:
                await _read_to_end(chunks)
            if answer.broken is not None:
                raise answer.broken

    async def list_models(self) -> list[str]:
        content = await self._answer_body("GET", "models", "list the provider's models")
        try:
            data = json.loads(content).get("data") or []
            return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]
        except (ValueError, AttributeError):
            raise UpstreamError(
                texts.PROVIDER_MODELS_MALFORMED,
                kind=FailureKind.MALFORMED,
                retryable=False,
            ) from None

    async def embeddings(self, model: str, inputs: list[str]) -> tuple[list[list[float]], int]:
        """POST /embeddings: one vector per input, in the inputs' order, and the prompt
        tokens the provider counted (0 when it sent no usage)."""
        body = {"model": model, "input": inputs, "encoding_format": "float"}
        content = await self._answer_body(
            "POST", "embeddings", "reach the provider's embeddings", body=body
        )
        # Off the event loop: 64 vectors of 3,072 numbers take about 100 ms to read.
        return await asyncio.to_thread(_embeddings_parsed, content, len(inputs))

    # --- helpers ------------------------------------------------------------------------

    async def _answer_body(
        self, method: str, path: str, doing: str, *, body: dict[str, Any] | None = None
    ) -> bytes:
        """The whole body of a request that is not a stream (the model list, embeddings);
        an error status or a failed connection as UpstreamError ("Could not {doing} …")."""
        try:
            async with request_answered(
                method,
                self._url(path),
                headers=self._headers(),
                body=body,
                demo=self.provider.is_demo,
            ) as response:
                if response.status_code >= 400:
                    raise await self._status_error(response)
                return await response.read()
        except TransportFailure as exc:
            raise UpstreamError(
                f"Could not {doing} ({exc.detail}).", kind=FailureKind.CONNECT, retryable=True
            ) from None

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

    def _redacted(self, exc: UpstreamError) -> UpstreamError:
        """An error the provider sent inside its answer, without the key: it had the
        request, so the request reached it."""
        return UpstreamError(
            self._redact(exc.message),
            kind=exc.kind,
            retryable=exc.retryable,
            status_code=exc.status_code,
            retry_after=exc.retry_after,
            reached=True,
        )

    async def _status_error(self, response: Answer) -> UpstreamError:
        try:
            body = json.loads(await response.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        reason = response.reason or "error"
        message = self._redact(
            error_message(body, f"The provider answered {response.status_code} {reason}.")
        )
        logger.warning(
            "upstream %s answered %s: %s", self.provider.name, response.status_code, message
        )
        return UpstreamError(
            message,
            kind=FailureKind.STATUS,
            retryable=response.status_code in _RETRYABLE_STATUS,
            status_code=response.status_code,
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _streamed(body: dict[str, Any], *, with_usage: bool) -> dict[str, Any]:
    """The request as sent: streamed, and asking for the usage chunk unless the provider
    refused that before."""
    request = {**body, "stream": True}
    if with_usage:
        request["stream_options"] = {"include_usage": True}
    return request


class _Answer:
    """The events of one streamed answer, read by read: its bytes are decoded into SSE
    payloads, each payload parsed into events, content split at <think> tags."""

    def __init__(
        self, splitter: ThinkSplitter, redacted: Callable[[UpstreamError], UpstreamError]
    ) -> None:
        self._decoder = SseDecoder()
        self._splitter = splitter
        self._redacted = redacted
        self.done = False  # [DONE] came: nothing after it is read
        self.flowing = False  # events came: the first token went on
        # After a malformed chunk the answer is broken, but the rest of the stream is
        # still read for its usage chunk: the provider bills it all the same.
        self.broken: UpstreamError | None = None

    def events(self, data: bytes) -> Iterator[StreamEvent]:
        """The events of one read of the body, each given as soon as it is parsed."""
        for payload in self._decoder.feed(data):
            if payload == DONE:
                self.done = True
                return
            yield from self._chunk_events(payload)

    def _chunk_events(self, payload: bytes) -> Iterator[StreamEvent]:
        try:
            events = parse_chunk(payload)
        except UpstreamError as exc:
            if exc.kind != FailureKind.MALFORMED:
                raise self._redacted(exc) from None
            if self.broken is None:
                # What came before the broken chunk is kept.
                yield from self._splitter.flush()
                self.broken = self._redacted(exc)
            return
        self.flowing = self.flowing or bool(events)
        for event in events:
            if self.broken is not None:
                if isinstance(event, UsageReport):
                    yield event
            elif isinstance(event, ContentDelta):
                yield from self._splitter.feed(event.text)
            else:
                yield event


async def _read_to_end(chunks: AsyncIterator[bytes]) -> None:
    """The body ends right after [DONE]; reading its end returns the connection to the
    pool instead of closing it."""
    with contextlib.suppress(TransportFailure, TimeoutError):
        async with asyncio.timeout(1):
            async for _ in chunks:
                pass


def _transport_failure(exc: TransportFailure, *, answered: bool) -> UpstreamError:
    """What a failed connection means for the caller: retryable or not, and whether the
    provider had the request (and bills it)."""
    if exc.broken == Broken.CONNECT_TIMEOUT:
        return UpstreamError(
            texts.PROVIDER_TIMEOUT,
            kind=FailureKind.CONNECT,
            retryable=True,
        )
    if exc.broken == Broken.STALLED:
        return UpstreamError(
            f"The provider sent nothing for {settings.LLM_READ_TIMEOUT:g} seconds.",
            kind=FailureKind.STALLED,
            retryable=False,
            reached=answered or exc.sent,
        )
    if exc.broken == Broken.REFUSED:
        return UpstreamError(
            texts.PROVIDER_REFUSED,
            kind=FailureKind.CONNECT,
            retryable=True,
        )
    return UpstreamError(
        f"The connection to the provider broke ({exc.detail}).",
        kind=FailureKind.DROPPED,
        retryable=True,
        reached=answered or exc.sent,
    )


def _refuses_stream_options(failure: UpstreamError) -> bool:
    return failure.status_code == 400 and "stream_options" in failure.message.lower()


def forget_refusals() -> None:
    """For tests: forget which providers refused stream_options."""
    _without_stream_options.clear()


# The longest vector read: the largest models give 4,096 numbers.
EMBEDDING_MAX_DIMENSIONS = 16_384


def _embeddings_parsed(content: bytes, count: int) -> tuple[list[list[float]], int]:
    """The vectors of an /embeddings answer, put back in the inputs' order by their
    `index`; anything else than one list of numbers per input, all of one length (at
    most EMBEDDING_MAX_DIMENSIONS), is malformed."""
    malformed = UpstreamError(
        texts.PROVIDER_EMBEDDINGS_MALFORMED,
        kind=FailureKind.MALFORMED,
        retryable=False,
    )
    try:
        answer = json.loads(content)
        vectors: list[list[float] | None] = [None] * count
        for item in answer["data"]:
            index, numbers = item["index"], item["embedding"]
            if not (_is_int(index) and 0 <= index < count and vectors[index] is None):
                raise ValueError
            if not (isinstance(numbers, list) and 0 < len(numbers) <= EMBEDDING_MAX_DIMENSIONS):
                raise ValueError
            if not all(_is_number(x) for x in numbers):
                raise ValueError
            vectors[index] = [float(x) for x in numbers]
        tokens = (answer.get("usage") or {}).get("prompt_tokens") or 0
        if not _is_int(tokens) or tokens < 0:
            raise ValueError
    # Overflow: a number too large for a float; Recursion: JSON nested too deep to read.
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            RecursionError):  # fmt: skip
        raise malformed from None
    found = [v for v in vectors if v is not None]
    if len(found) != count or len({len(v) for v in found}) != 1:
        raise malformed
    return found, int(tokens)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
