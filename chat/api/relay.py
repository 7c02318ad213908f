"""One API request relayed to its provider: always streamed from the provider (so the
project's client, retries before the first token and fault handling serve both), passed
on chunk by chunk to a streaming client or gathered into one completion for the others,
and recorded once however it ends: the provider's usage, else an estimate of what was
generated (also when the client went away, which closes the upstream request)."""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from chat.models import ApiCall, Message
from chat.services.answers.heartbeat import HEARTBEAT_INTERVAL
from chat.services.api.calls import api_call_alive, api_call_finish
from chat.services.usage.ledger import UsageCounts, usage_estimate
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
    sent: bool = False  # a request reached the provider

    def read(self, item: RelayedChunk) -> None:
        for event in item.events:
            if isinstance(event, UsageReport):
                self.usage = event
            elif isinstance(event, ContentDelta | ReasoningDelta):
                self.generated.append(event.text)
            elif isinstance(event, ToolCallDelta):
                self.generated.append((event.name or "") + event.arguments)
        if self.first_token is None and any(isinstance(e, TOKEN_EVENTS) for e in item.events):
            self.first_token = time.monotonic()

    def counts(self, body: dict[str, Any], model: str) -> UsageCounts | None:
        if not self.sent:
            return None
        if self.usage is not None:
            return UsageCounts.from_report(self.usage)
        # The provider reported none (or the client left first): estimated, and flagged.
        return usage_estimate(
            prompt_text=json.dumps(body.get("messages", []), ensure_ascii=False),
            completion_text="".join(self.generated),
            model=model,
        )

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
        # What goes upstream: the client's request with the provider's model id; the
        # client's stream options are chatsite's to set (it always asks for usage).
        self.body = {k: v for k, v in body.items() if k not in {"stream", "stream_options"}} | {
            "model": call.model
        }
        self.model_id = model_id  # the id the client asked for, given back in every chunk
        self.include_usage = include_usage
        self.client = UpstreamClient(provider)
        self.tally = _Tally()
        self.finishing: asyncio.Task[None] | None = None

    async def chunks(self) -> AsyncIterator[RelayedChunk]:
        """The provider's chunks; raises UpstreamError."""
        last_alive = time.monotonic()
        async for item in self.client.relay_chat(self.body):
            self.tally.sent = self.client.request_sent or self.tally.sent
            if not isinstance(item, RelayedChunk):
                continue  # retrying before the first token
            self.tally.read(item)
            if time.monotonic() - last_alive > HEARTBEAT_INTERVAL:
                last_alive = time.monotonic()
                await sync_to_async(api_call_alive)(self.call.pk)
            yield item

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
        return (
            b"data: "
            + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode()
            + b"\n\n"
        )

    async def stream(self) -> AsyncIterator[bytes]:
        """Server-sent events as OpenAI's API sends them, ending with [DONE]; an upstream
        failure after the response began is an `error` event, as providers send it."""
        status = Message.Status.COMPLETE
        try:
            async for item in self.chunks():
                event = self._event(item)
                if event is not None:
                    yield event
            yield b"data: [DONE]\n\n"
        except UpstreamError as exc:
            status = Message.Status.ERROR
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
        finally:
            self._finish_soon(status)
        return gathered.result()

    def _finish_soon(self, status: str) -> None:
        """Record the call in a task of its own: it must happen even when the request's
        task is being cancelled (the client left)."""
        counts = self.tally.counts(self.body, self.call.model)
        task = asyncio.get_running_loop().create_task(
            sync_to_async(api_call_finish)(
                call=self.call,
                status=status,
                counts=counts,
                latency_ms=self.tally.ms(time.monotonic()),
                time_to_first_token_ms=self.tally.ms(self.tally.first_token),
            )
        )
        _finishing.add(task)
        task.add_done_callback(_finishing.discard)
        self.finishing = task

    async def finished(self) -> None:
        """Wait for the call's record (the non-streaming answer waits for it)."""
        if self.finishing is not None:
            await self.finishing


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
        self.created = self.created or int(chunk.get("created") or 0)
        self.fingerprint = self.fingerprint or chunk.get("system_fingerprint")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict):
                self._add_choice(choice)

    def _add_choice(self, piece: dict[str, Any]) -> None:
        index = int(piece.get("index") or 0)
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
        delta = piece.get("delta") or {}
        for name in ("content", "reasoning_content", "refusal"):
            if isinstance(delta.get(name), str):
                message[name] = (message.get(name) or "") + delta[name]
        for call in delta.get("tool_calls") or []:
            self._add_tool_call(message, call)
        if piece.get("finish_reason"):
            choice["finish_reason"] = piece["finish_reason"]

    @staticmethod
    def _add_tool_call(message: dict[str, Any], piece: dict[str, Any]) -> None:
        calls: list[dict[str, Any]] = message.setdefault("tool_calls", [])
        index = int(piece.get("index") or 0)
        while len(calls) <= index:
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        call, function = calls[index], piece.get("function") or {}
        call["id"] = piece.get("id") or call["id"]
        call["function"]["name"] += function.get("name") or ""
        call["function"]["arguments"] += function.get("arguments") or ""

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
