"""Server-sent events from a streamed chat completion, parsed line by line into typed events.

Providers send one JSON chunk per `data:` line, so each data line is one chunk; blank
lines, `:` keep-alive comments and other SSE fields carry nothing chatsite uses.
"""

import json
from typing import Any

import orjson

from chat import texts
from chat.upstream.errors import FailureKind, UpstreamError
from chat.upstream.events import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)

DONE = b"[DONE]"


class SseDecoder:
    """Turns the body's bytes, as they arrive, into the payloads of its `data:` lines.

    One pass per network read, whatever the read holds: this sits on the hot path of
    every token (docs/benchmarks.md). Lines may end in LF, CRLF or CR.
    """

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, self._tail = (self._tail + data).split(b"\n")
        # "data:" then the payload; one optional space after the colon is not part of it.
        return [line[5:].lstrip(b" ") for line in lines if line.startswith(b"data:")]


def parse_chunk(payload: str | bytes) -> list[StreamEvent]:
    """Turn one chunk's JSON into events; a mid-stream error event raises UpstreamError."""
    return chunk_events(chunk_parse(payload))


def chunk_parse(payload: str | bytes) -> dict[str, Any]:
    """One chunk's JSON object; anything else raises the malformed chunk's UpstreamError."""
    # orjson: a chunk per token is parsed, and the standard library's parser took 2.5 %
    # of the server's CPU under the relay benchmark (7 µs a chunk; orjson 2 µs).
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        chunk = _lenient(payload)
    if not isinstance(chunk, dict):
        raise _malformed()
    return chunk


def _lenient(payload: str | bytes) -> Any:
    """What the standard library makes of a chunk orjson refuses: servers that write
    Python's `-Infinity` or `NaN` (a logprob), or a lone surrogate escape."""
    try:
        return json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def chunk_events(chunk: dict[str, Any]) -> list[StreamEvent]:
    """A parsed chunk's events; a mid-stream error event raises UpstreamError."""
    if "error" in chunk:
        raise UpstreamError(
            error_message(chunk, texts.PROVIDER_ERROR),
            kind=FailureKind.PROVIDER,
            retryable=False,
        )

    events: list[StreamEvent] = []
    for choice in chunk.get("choices") or []:
        # chatsite asks for one choice (n=1); any other index is not ours to show.
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            events.append(ContentDelta(content))
        for call in delta.get("tool_calls") or []:
            events.append(_tool_call_piece(call))
        if choice.get("finish_reason"):
            events.append(Finish(str(choice["finish_reason"])))
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        events.append(usage_report(usage))
    return events


def _tool_call_piece(call: Any) -> ToolCallDelta:
    # A piece of the wrong shape is the provider's malformed chunk, not chatsite's failure.
    if not isinstance(call, dict):
        raise _malformed()
    index = call.get("index", 0)
    function = call.get("function") or {}
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(function, dict):
        raise _malformed()
    return ToolCallDelta(
        index=index,
        id=call.get("id"),
        name=function.get("name"),
        arguments=function.get("arguments") or "",
    )


def _malformed() -> UpstreamError:
    return UpstreamError(
        texts.PROVIDER_CHUNK_MALFORMED,
        kind=FailureKind.MALFORMED,
        retryable=False,
    )


def usage_report(usage: dict[str, Any]) -> UsageReport:
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return UsageReport(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def error_message(body: Any, fallback: str) -> str:
    """The provider's own words from an OpenAI-style error body, if it has any."""
    if isinstance(body, dict):
        error = body.get("error")
        nested = error.get("message") if isinstance(error, dict) else None
        if isinstance(nested, str):
            return nested
        if isinstance(error, str) and error:
            return error
        message = body.get("message")
        if isinstance(message, str):
            return message
    return fallback
