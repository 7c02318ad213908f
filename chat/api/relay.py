"""One API request relayed to its provider: always streamed from the provider (so the
project's client, retries before the first token and fault handling serve both), passed
on chunk by chunk to a streaming client or gathered into one completion for the others,
and recorded once however it ends: the provider's usage, else an estimate of what was
generated (also when the client went away, which closes the upstream request)."""

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from asgiref.sync import sync_to_async

from chat.models import ApiCall, Message
from chat.services.answers.heartbeat import HEARTBEAT_INTERVAL
from chat.services.api.calls import CallOutcome, api_call_alive, api_call_finish
from chat.services.usage.ledger import UsageCounts
from chat.upstream.client import RelayedChunk, UpstreamClient
from chat.upstream.errors import UpstreamError
from chat.upstream.events import (
    TOKEN_EVENTS,
    ContentDelta,
    ReasoningDelta,
    ToolCallDelta,
    UsageReport,
)
from chat.upstream.provider import Provider

logger = logging.getLogger(__name__)

# What the client's request may not choose: how chatsite streams from the provider, and a
# router's fallback models (OpenRouter's `models`, `route`, `provider`), which would get
# round the model the limits were checked for.
NOT_PASSED_ON = {"stream", "stream_options", "models", "route", "provider"}

# Finishing tasks of relays whose client left: kept until done (a task only weakly
# referenced by the loop could be collected mid-way).
_finishing: set[asyncio.Task[None]] = set()


@dataclass
class _Tally:
    """What the relay saw: for the ledger, and for a completion gathered from chunks."""

    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None
    usage: UsageReport | None = None
    generated: list[str] = field(default_factory=list)
    reached: bool = False  # the provider answered 200: it read the prompt

    def read(self, item: RelayedChunk) -> None:
        for event in item.events:
            if isinstance(event, UsageReport):
                self.usage = event
            elif isinstance(event, ContentDelta | ReasoningDelta):
                self.generated.append(event.text)
            elif isinstance(event, ToolCallDelta):
                self.generated.append((event.name or "") + event.arguments)
        self.reached = True
        if self.first_token is None and any(isinstance(e, TOKEN_EVENTS) for e in item.events):
            self.first_token = time.monotonic()

    def ms(self, at: float | None) -> int | None:
        return None if at is None else round((at - self.started) * 1000)


class ApiRelay:
    def __init__(
        self,
        *,
        call: ApiCall,
        provider: Provider,
        body: dict[str, Any],
        model_id: str,
        include_usage: bool,
    ) -> None:
        self.call = call
        self.provider = provider
        # What goes upstream: the client's request with the provider's model id, less what
        # the client may not choose (NOT_PASSED_ON; chatsite always asks for usage).
        self.body = {k: v for k, v in body.items() if k not in NOT_PASSED_ON} | {
            "model": call.model
        }
        self.model_id = model_id  # the id the client asked for, given back in every chunk
        self.include_usage = include_usage
        self.client = UpstreamClient(provider)
        self.tally = _Tally()
        self.finishing: asyncio.Task[None] | None = None
        self.failure: UpstreamError | None = None

    async def chunks(self) -> AsyncIterator[RelayedChunk]:
        """The provider's chunks; raises UpstreamError. While it runs, the call says it
        is alive (else, once it is stale, it would stop counting against the limits),
        however long the provider takes to the first token or between two."""
        alive = asyncio.create_task(self._keep_alive())
        try:
            async for item in self.client.relay_chat(self.body):
                if isinstance(item, RelayedChunk):  # not a retry before the first token
                    self.tally.read(item)
                    yield item
        except UpstreamError as exc:
            self.failure = exc
            raise
        finally:
            alive.cancel()

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            await sync_to_async(api_call_alive)(self.call.pk)

    def _event(self, item: RelayedChunk) -> bytes | None:
        """One chunk as the client gets it: the provider's bytes as they came where
        nothing in them changes (most chunks), else written anew."""
        chunk = item.chunk
        if not self.include_usage and "usage" in chunk:
            if not chunk.get("choices"):
                return None  # the usage chunk chatsite asked for, not the client
            chunk = {k: v for k, v in chunk.items() if k != "usage"}
        elif chunk.get("model") == self.model_id:
            return b"data: " + item.payload + b"\n\n"
        chunk = chunk | {"model": self.model_id}
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    async def stream(self) -> AsyncIterator[bytes]:
        """Server-sent events as OpenAI's API sends them, ending with [DONE]. A failure
        before the first chunk is raised (UpstreamError: the view answers it with its
        status); after it, it is an `error` event, as providers send it."""
        status, began = Message.Status.ERROR, False
        try:
            async for item in self.chunks():
                event = self._event(item)
                if event is not None:
                    began = True
                    yield event
            status = Message.Status.COMPLETE
            yield b"data: [DONE]\n\n"
        except UpstreamError as exc:
            if not began:
                raise
            error = {"error": {"message": exc.message, "type": "api_error", "code": None}}
            yield b"data: " + json.dumps(error).encode() + b"\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away: leaving the relay closed the upstream request.
            status = Message.Status.INTERRUPTED
            raise
        finally:
            self._finish_soon(status)

    async def complete(self) -> dict[str, Any]:
        """One completion gathered from the chunks, as a non-streaming call answers;
        raises UpstreamError."""
        status = Message.Status.ERROR
        gathered = _Completion(self.model_id)
        try:
            async for item in self.chunks():
                gathered.add(item.chunk)
            status = Message.Status.COMPLETE
        except asyncio.CancelledError:
            status = Message.Status.INTERRUPTED  # the client went away
            raise
        finally:
            self._finish_soon(status)
        return gathered.result()

    def _finish_soon(self, status: str) -> None:
        """Record the call in a task of its own: it must happen even when the request's
        task is being cancelled (the client left)."""
        tally = self.tally
        outcome = CallOutcome(
            status=status,
            usage=None if tally.usage is None else UsageCounts.from_report(tally.usage),
            messages=list(self.body.get("messages") or []),
            generated="".join(tally.generated),
            # Answered with 200 (its chunks came), or a failure that reached it.
            reached=tally.reached or (self.failure is not None and self.failure.reached),
            latency_ms=tally.ms(time.monotonic()),
            time_to_first_token_ms=tally.ms(tally.first_token),
        )
        # The estimate, if any, is counted in the database thread, not on the event loop.
        # A context of its own: the request's (and its database thread) may have ended
        # by the time the task runs (the client left).
        task = asyncio.get_running_loop().create_task(
            _finish(call=self.call, outcome=outcome), context=contextvars.Context()
        )
        _finishing.add(task)
        task.add_done_callback(_finishing.discard)
        self.finishing = task

    async def finished(self) -> None:
        """Wait for the call's record (the non-streaming answer waits for it)."""
        if self.finishing is not None:
            await self.finishing


def _whole(value: Any) -> int:
    """A provider's index or time, or 0 where it sent something else."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


async def _finish(*, call: ApiCall, outcome: CallOutcome) -> None:
    try:
        await sync_to_async(api_call_finish)(call=call, outcome=outcome)
    except Exception:
        logger.exception("API call %s: its usage could not be recorded", call.pk)


class _Completion:
    """A chat.completion object from chat.completion.chunk objects: each choice's content,
    reasoning and tool calls joined, its finish reason, and the usage."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.id = ""
        self.created = 0
        self.fingerprint: str | None = None
        self.choices: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, Any] | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        self.id = self.id or str(chunk.get("id", ""))
        self.created = self.created or _whole(chunk.get("created"))
        self.fingerprint = self.fingerprint or chunk.get("system_fingerprint")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict):
                self._add_choice(choice)

    def _add_choice(self, piece: dict[str, Any]) -> None:
        index = _whole(piece.get("index"))
        choice = self.choices.setdefault(
            index,
            {
                "index": index,
                "message": {"role": "assistant", "content": None},
                "finish_reason": None,
                "logprobs": None,
            },
        )
        message = choice["message"]
        delta = piece.get("delta")
        if not isinstance(delta, dict):
            delta = {}
        for name in ("content", "reasoning_content", "refusal"):
            if isinstance(delta.get(name), str):
                message[name] = (message.get(name) or "") + delta[name]
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            self._add_tool_call(message, call)
        if piece.get("finish_reason"):
            choice["finish_reason"] = piece["finish_reason"]

    @staticmethod
    def _add_tool_call(message: dict[str, Any], piece: Any) -> None:
        calls: list[dict[str, Any]] = message.setdefault("tool_calls", [])
        if not isinstance(piece, dict):
            return
        index = min(_whole(piece.get("index")), 127)
        while len(calls) <= index:
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        call, function = calls[index], piece.get("function")
        if isinstance(piece.get("id"), str):
            call["id"] = piece["id"]
        for name in ("name", "arguments"):
            if isinstance(function, dict) and isinstance(function.get(name), str):
                call["function"][name] += function[name]

    def result(self) -> dict[str, Any]:
        completion: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created or int(time.time()),
            "model": self.model_id,
            "choices": [self.choices[i] for i in sorted(self.choices)],
            "system_fingerprint": self.fingerprint,
        }
        if self.usage is not None:
            completion["usage"] = self.usage
        return completion
