"""The project's fake OpenAI-compatible upstream, as a plain ASGI app.

It streams chunks exactly as ../shared/api describes (role chunk, content chunks, a final
chunk with finish_reason, the usage chunk when asked for, then `data: [DONE]`) and serves
GET /models. It answers under any prefix (/v1, /openai/v1, ...), so tests prove chatsite
never assumes one. Tests queue a Plan per request through POST /_fake/plan and read what
it received and how each request ended from GET /_fake/log.

It needs no Django: served by uvicorn it is a real HTTP server on loopback for tests and
benchmarks; called in-process it is the offline demo provider.
"""

import asyncio
import hashlib
import json
import math
import re
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

Scope = dict[str, Any]
# What GET /models lists; the offline demo provider's default model is the first.
MODELS = ["chatsite-demo", "chatsite-demo-large"]
_WORD = re.compile(r"\S+\s*|\s+")
# POST /embeddings: a vector from the text's words, hashed into this many dimensions,
# where the words of one meaning count as one (so that a test can find a passage by
# meaning that its words do not match). Not a model: near vectors share words or meanings.
EMBEDDING_DIMENSIONS = 256
SAME_MEANING = {
    "automobile": "car",
    "vehicle": "car",
    "motorcar": "car",
    "physician": "doctor",
    "medic": "doctor",
    "salary": "pay",
    "wage": "pay",
    "remuneration": "pay",
    "dwelling": "house",
    "residence": "house",
}


@dataclass
class Plan:
    """How to answer the next request. With no plan queued, the demo answer is streamed.

    Every fault chatsite must handle can be asked for; ../shared/api/README.md lists them.
    """

    tokens: int | None = None  # content pieces ("t0 t1 ..."); None: the demo answer
    text: str | None = None  # this content instead, sent word by word (markdown, say)
    pieces: list[str] | None = None  # exactly these content pieces, one chunk each
    delay: float | None = None  # seconds between pieces; None: the server's default
    status: int = 200  # anything but 200 is answered as an OpenAI-style error
    error_message: str = "The fake upstream was told to fail."
    retry_after: str | None = None  # the Retry-After header of an error answer
    reasoning: int = 0  # reasoning pieces (reasoning_content) before the content
    reasoning_text: str | None = None  # this reasoning instead, sent word by word
    think: bool = False  # reasoning inline as <think>…</think>, tags cut across chunks
    # [{name, arguments}]: the model calls these (alone unless text, tokens or pieces are
    # given too); arguments are sent as given, so they may be malformed on purpose.
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    finish_reason: str = "stop"  # "" sends no finish chunk
    done: bool = True  # send data: [DONE] at the end
    drop_after_done: bool = False  # then break the connection instead of ending the body
    usage: bool = True  # send the usage chunk when the request asks for it
    cached_tokens: int = 0
    keepalive: bool = False  # a ": keep-alive" comment between chunks
    crlf: bool = False  # CRLF line ends
    error_after: int | None = None  # an `error` event after this many pieces, then the end
    drop_after: int | None = None  # break the connection after this many pieces
    malformed_after: int | None = None  # a chunk that is not JSON after this many pieces
    stall_after: int | None = None  # go silent for `stall` seconds after this many pieces
    stall: float = 0.0
    reject_stream_options: bool = False  # 400 when stream_options is sent (plan kept)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Plan":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown plan fields: {sorted(unknown)}")
        return cls(**data)


@dataclass
class LogEntry:
    id: int
    path: str
    body: Any
    authorized: bool
    chunks_sent: int = 0
    outcome: str = "pending"  # complete | disconnected | dropped | rejected
    ended_at: float | None = None  # time.time() when the outcome was known
    plan: dict[str, Any] = field(default_factory=dict)
    # The usage chunk as sent, once it was written to the connection: what a bill says.
    usage_sent: dict[str, Any] | None = None


class FakeUpstream:
    def __init__(
        self, *, api_key: str = "", token_delay: float = 0.0, tokens: int | None = None
    ) -> None:
        self.api_key = api_key
        self.token_delay = token_delay
        self.default_plan = Plan(tokens=tokens)
        self.plans: deque[Plan] = deque()
        self.log: list[LogEntry] = []
        self.models_requests = 0  # GET /models, kept apart from the chat log
        # POST /embeddings, kept apart too: how many inputs each request had, and how
        # the next ones answer: (how many, status, seconds first).
        self.embeddings_requests: list[int] = []
        self.embeddings_plan: tuple[int, int, float] = (0, 200, 0.0)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path.startswith("/_fake/"):
            await self._control(method, path, receive, send)
        elif method == "GET" and path.endswith("/models"):
            await self._models(scope, send)
        elif method == "POST" and path.endswith("/chat/completions"):
            await self._chat(scope, receive, send)
        elif method == "POST" and path.endswith("/embeddings"):
            await self._embeddings(scope, receive, send)
        else:
            await _json(send, 404, {"error": {"message": f"No route for {method} {path}"}})

    # --- control --------------------------------------------------------------------

    async def _control(self, method: str, path: str, receive: Any, send: Any) -> None:
        if method == "POST" and path == "/_fake/plan":
            try:
                self.plans.append(Plan.from_json(json.loads(await _body(receive))))
            except (ValueError, TypeError) as exc:
                await _json(send, 400, {"error": {"message": str(exc)}})
                return
            await _json(send, 200, {"queued": len(self.plans)})
        elif method == "POST" and path == "/_fake/reset":
            self.plans.clear()
            self.log.clear()
            self.models_requests = 0
            self.embeddings_requests.clear()
            self.embeddings_plan = (0, 200, 0.0)
            await _json(send, 200, {"reset": True})
        elif method == "POST" and path == "/_fake/embeddings_plan":
            asked = json.loads(await _body(receive))
            self.embeddings_plan = (
                int(asked["count"]),
                int(asked.get("status", 200)),
                float(asked.get("delay", 0.0)),
            )
            await _json(send, 200, {"planned": self.embeddings_plan[0]})
        elif method == "GET" and path == "/_fake/log":
            await _json(send, 200, [asdict(entry) for entry in self.log])
        elif method == "GET" and path == "/_fake/stats":
            stats = {
                "models_requests": self.models_requests,
                "embeddings_requests": list(self.embeddings_requests),
            }
            await _json(send, 200, stats)
        else:
            await _json(send, 404, {"error": {"message": "unknown control route"}})

    # --- the OpenAI-compatible API ----------------------------------------------------

    def _authorized(self, scope: Scope) -> bool:
        if not self.api_key:
            return True
        headers: dict[bytes, bytes] = dict(scope["headers"])
        return headers.get(b"authorization", b"").decode() == f"Bearer {self.api_key}"

    async def _models(self, scope: Scope, send: Any) -> None:
        self.models_requests += 1
        if not self._authorized(scope):
            await _json(send, 401, _error("Incorrect API key provided.", "invalid_api_key"))
            return
        created = int(time.time())
        data = [
            {"id": m, "object": "model", "created": created, "owned_by": "chatsite"} for m in MODELS
        ]
        await _json(send, 200, {"object": "list", "data": data})

    async def _embeddings(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self._authorized(scope):
            await _json(send, 401, _error("Incorrect API key provided.", "invalid_api_key"))
            return
        try:
            body = json.loads(await _body(receive))
            inputs = body["input"]
            inputs = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs]
        except (ValueError, KeyError, TypeError):
            await _json(send, 400, _error("input is required.", "invalid_request_error"))
            return
        self.embeddings_requests.append(len(inputs))
        planned, status, delay = self.embeddings_plan
        if planned:
            self.embeddings_plan = (planned - 1, status, delay)
            await asyncio.sleep(delay)
            if status != 200:
                message = "The fake upstream was told to fail."
                await _json(send, status, _error(message, "fake_error"))
                return
        data = [
            {"object": "embedding", "index": i, "embedding": embedding_of(text)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(len(text.split()) for text in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        answer = {"object": "list", "data": data, "model": body.get("model", ""), "usage": usage}
        await _json(send, 200, answer)

    async def _chat(self, scope: Scope, receive: Any, send: Any) -> None:
        try:
            body = json.loads(await _body(receive))
        except ValueError:
            await _json(send, 400, _error("The request body is not valid JSON.", "invalid_json"))
            return
        plan = self.plans.popleft() if self.plans else self.default_plan
        entry = LogEntry(
            id=len(self.log) + 1,
            path=scope["path"],
            body=body,
            authorized=self._authorized(scope),
            plan=asdict(plan),
        )
        self.log.append(entry)
        if not entry.authorized:
            entry.outcome = "rejected"
            await _json(send, 401, _error("Incorrect API key provided.", "invalid_api_key"))
            return
        if plan.reject_stream_options and "stream_options" in body:
            entry.outcome = "rejected"
            self.plans.appendleft(plan)  # the retry without it gets this plan
            message = "Unrecognized request argument supplied: stream_options"
            await _json(send, 400, _error(message, "invalid_request_error"))
            return
        if plan.status != 200:
            entry.outcome = "rejected"
            headers = [(b"retry-after", plan.retry_after.encode())] if plan.retry_after else []
            await _json(send, plan.status, _error(plan.error_message, "fake_error"), headers)
            return
        messages = body.get("messages") or []
        if plan.pieces is not None:
            pieces = list(plan.pieces)
        elif plan.text is not None:
            pieces = _WORD.findall(plan.text)
        elif plan.tool_calls and plan.tokens is None:
            pieces = []  # a round that only calls tools, as models mostly do
        elif plan.tokens is None:
            pieces = _WORD.findall(demo_answer(messages))
        else:
            pieces = [f"t{i} " for i in range(plan.tokens)]
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        script = _script(body.get("model", ""), messages, pieces, plan, include_usage)
        delay = self.token_delay if plan.delay is None else plan.delay
        await self._stream(receive, send, entry, script, delay)

    async def _stream(
        self, receive: Any, send: Any, entry: LogEntry, script: list[Any], delay: float
    ) -> None:
        async def produce() -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream"),
                        (b"cache-control", b"no-cache"),
                    ],
                }
            )
            for index, step in enumerate(script):
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                    continue
                if isinstance(step, Drop):
                    # Raising after the response started makes the server cut the
                    # connection mid-body, as a network failure would.
                    raise ConnectionAbortedError("the fake upstream drops this stream")
                if index and delay:
                    await asyncio.sleep(delay)
                body = step.data if isinstance(step, UsageEvent) else step
                await send({"type": "http.response.body", "body": body, "more_body": True})
                entry.chunks_sent += 1
                if isinstance(step, UsageEvent):
                    entry.usage_sent = step.usage
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def client_gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        producer = asyncio.ensure_future(produce())
        watcher = asyncio.ensure_future(client_gone())
        done, _ = await asyncio.wait({producer, watcher}, return_when=asyncio.FIRST_COMPLETED)
        entry.ended_at = time.time()
        if producer in done:
            watcher.cancel()
            entry.outcome = "dropped" if producer.exception() else "complete"
            producer.result()
        else:
            producer.cancel()
            entry.outcome = "disconnected"


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Drop:
    pass


@dataclass(frozen=True)
class UsageEvent:
    data: bytes
    usage: dict[str, Any]


def demo_answer(messages: list[dict[str, Any]]) -> str:
    last: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    said = " ".join(_text_of(last).split())
    excerpt = said if len(said) <= 80 else said[:77] + "..."
    return (
        "Hello! This is chatsite's demo provider: it runs offline inside the server "
        f'and always answers like this. You wrote {len(said.split())} words: "{excerpt}". '
        "To talk to a real model, set LLM_BASE_URL and LLM_API_KEY and restart chatsite."
    )


def embedding_of(text: str) -> list[float]:
    """The fake's embedding: each word (its meaning, for SAME_MEANING's words; a plural's
    "s" dropped) adds ±1 to a hashed dimension; the whole is of length 1."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"[a-z]+", text.lower()):
        word = word[:-1] if len(word) > 3 and word.endswith("s") else word
        digest = hashlib.blake2b(SAME_MEANING.get(word, word).encode(), digest_size=4).digest()
        number = int.from_bytes(digest, "big")
        vector[number % EMBEDDING_DIMENSIONS] += 1.0 if number & 1 << 31 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def prompt_token_count(messages: list[dict[str, Any]]) -> int:
    """The fake's tokenizer: one token per word of every message, plus 3 per message."""
    return sum(len(_text_of(m).split()) + 3 for m in messages)


def _script(
    model: str, messages: list[dict[str, Any]], pieces: list[str], plan: Plan, include_usage: bool
) -> list[bytes | Pause | Drop | UsageEvent]:
    """What to send, in order: SSE events as bytes, pauses and a drop, as the plan says."""
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    newline = "\r\n" if plan.crlf else "\n"

    def event(payload: dict[str, Any] | str) -> bytes:
        data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        keepalive = f": keep-alive{newline}{newline}" if plan.keepalive else ""
        return f"{keepalive}data: {data}{newline}{newline}".encode()

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    script: list[bytes | Pause | Drop | UsageEvent] = [chunk({"role": "assistant", "content": ""})]
    thoughts = (
        _WORD.findall(plan.reasoning_text)
        if plan.reasoning_text is not None
        else [f"r{i} " for i in range(plan.reasoning)]
    )
    script += [chunk({"reasoning_content": thought}) for thought in thoughts]
    if plan.think:
        # Tags cut across chunks, as a tokenizer would cut them.
        script += [
            chunk({"content": text}) for text in ["<th", "ink>pondering ", "deeply</th", "ink>"]
        ]
    for index, piece in enumerate(pieces):
        if index == plan.error_after:
            error = {"error": {"message": plan.error_message, "type": "server_error"}}
            return [*script, event(error)]
        if index == plan.drop_after:
            return [*script, Drop()]
        if index == plan.malformed_after:
            script.append(event('{"choices": [{"delta": {"content": "unterminated'))
        if index == plan.stall_after:
            script.append(Pause(plan.stall))
        script.append(chunk({"content": piece}))
    if plan.drop_after is not None and plan.drop_after >= len(pieces):
        return [*script, Drop()]
    script += _tool_call_chunks(plan, chunk)
    if plan.finish_reason:
        script.append(chunk({}, plan.finish_reason))
    if include_usage and plan.usage:
        prompt = prompt_token_count(messages)
        reasoning = len(thoughts) + (2 if plan.think else 0)
        completion = len(pieces) + reasoning + len(plan.tool_calls)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": plan.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
        script.append(UsageEvent(event({**base, "choices": [], "usage": usage}), usage))
    if plan.done:
        script.append(event("[DONE]"))
    if plan.drop_after_done:
        script += [Pause(0.05), Drop()]
    return script


def _tool_call_chunks(plan: Plan, chunk: Any) -> list[bytes]:
    """Each call in three pieces: id and name first, then its arguments in two halves."""
    chunks = []
    for index, call in enumerate(plan.tool_calls):
        arguments = call.get("arguments", "")
        half = len(arguments) // 2
        first = {"index": index, "id": f"call_{index}", "type": "function"}
        first["function"] = {"name": call["name"], "arguments": ""}
        chunks.append(chunk({"tool_calls": [first]}))
        for part in (arguments[:half], arguments[half:]):
            chunks.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
            )
    return chunks


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body"):
            return body


async def _json(
    send: Any, status: int, payload: Any, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + (extra_headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
