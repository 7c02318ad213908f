"""One generation is one asyncio task that belongs to no websocket.

Closing a tab must not cancel an answer (daphne ends a consumer soon after its socket
closes), so the task is started here, kept in a registry, and reached only through the
channel layer: deltas go to the conversation's group, and Stop comes in through the
generation's own group. That works the same with one process or several behind Redis.
"""

import asyncio
import importlib
import itertools
import logging
import time
import uuid
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError

from chat import texts
from chat.models import Message
from chat.realtime import groups
from chat.realtime.frames import (
    DeltaFrame,
    ServerFrame,
    SnapshotFrame,
    ToolFrame,
    delta_frame,
    done_frame,
    retrying_frame,
    snapshot_frame,
    title_frame,
    tool_frame,
)
from chat.realtime.groups import generation_group
from chat.services.answers.heartbeat import HEARTBEAT_INTERVAL
from chat.services.answers.outcome import AnswerOutcome, ToolCall
from chat.services.answers.requests import ChatRequest, chat_request_build, chat_request_retrieve
from chat.services.answers.saving import (
    FailedAttempt,
    GenerationResult,
    RoundRequest,
    answer_round_record,
    assistant_message_fail,
    assistant_message_finalize,
    assistant_message_flush,
    tool_calls_text,
)
from chat.services.conversations.titles import title_generate
from chat.services.tools import runs as tool_runs
from chat.services.tools.runs import tool_rounds_messages, tool_run_new
from chat.services.tools.states import ToolRunState
from chat.services.usage.ledger import UsageCounts, usage_estimate
from chat.tools.addresses import AddressRefused
from chat.tools.config import ServerUnavailable
from chat.upstream.client import UpstreamClient
from chat.upstream.errors import FailureKind, UpstreamError
from chat.upstream.events import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    Retrying,
    ToolCallDelta,
    UsageReport,
)
from chat.upstream.model_list import model_default
from chat.upstream.provider import Provider, default_provider

logger = logging.getLogger(__name__)

# Partial text reaches the database this often while streaming, and at least every
# HEARTBEAT_INTERVAL the row is touched even when nothing new came: the heartbeat that
# says its process lives (chat/services/answers/heartbeat.py; watched from other
# processes by chat/realtime/liveness.py). One write per answer per 1.5 s, whether or not
# text came: never a write per token.
FLUSH_INTERVAL = HEARTBEAT_INTERVAL
# The final save is retried, 1 + 2 + 3 + 4 s apart: a database restart (a PostgreSQL
# failover or upgrade takes seconds) must not cost the answer.
SAVE_ATTEMPTS = 5

_running: dict[int, "Generation"] = {}


async def generation_prepare(
    *, message_id: int, conversation_id: int, request: ChatRequest | None = None
) -> "Generation":
    """Make a generation for a saved streaming message that Stop can already reach.

    Publish the message, then call start(): a Stop pressed in between waits in the
    generation's channel and is obeyed as soon as it runs. Without a request, the
    generation builds it from the database.
    """
    generation = Generation(message_id=message_id, conversation_id=conversation_id)
    generation.request = request
    if request is not None:
        generation.provider = request.provider
    await generation.listen()
    return generation


def generations_running() -> list["Generation"]:
    return list(_running.values())


async def generations_interrupt(grace: float) -> None:
    """The server stops: every answer being written here is saved as interrupted."""
    tasks = [g.task for g in generations_running() if g.task is not None]
    for task in tasks:
        task.cancel()
    if tasks:
        logger.info("saving %s answers being written before the server stops", len(tasks))
        await asyncio.wait(tasks, timeout=grace)


def _holds_cancellation(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(asyncio.CancelledError) is not None
    return False


async def _client_call() -> Any:
    """The MCP client's call, its SDK imported in a thread the first time: memory a site
    without tools never spends, and a load that must not block the event loop (figures
    in docs/benchmarks.md, make bench-tools)."""
    module = await asyncio.to_thread(importlib.import_module, "chat.tools.client")
    return module.mcp_tool_call


class ToolRoundsExhausted(Exception):
    """The model called tools again after CHAT_TOOL_ROUNDS rounds."""


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("task %s failed", task.get_name(), exc_info=task.exception())


class Generation:
    def __init__(self, *, message_id: int, conversation_id: int) -> None:
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.task: asyncio.Task[None] | None = None
        self.provider: Provider = default_provider()
        self.model = ""
        self.request: ChatRequest | None = None
        self._client: UpstreamClient | None = None
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: dict[int, ToolCall] = {}
        self.finish_reason = ""
        self.usage: UsageReport | None = None
        self.failed_attempts: list[FailedAttempt] = []
        self.failure: UpstreamError | None = None
        self.error = ""
        self.stop_requested = False
        # The tool runs of this answer, by id, in the order the model called them; the
        # earlier rounds' requests (each a usage row), and what they add to the messages.
        self.tool_runs: dict[str, ToolRunState] = {}
        self.round_requests: list[RoundRequest] = []
        self.rounds: list[dict[str, Any]] = []
        self._round_started = time.monotonic()
        self._round_first_token: float | None = None
        self._round_from = (0, 0)
        # Approvals awaited, by run id: (approved, by whom); None when none came in time.
        self._decisions: dict[str, asyncio.Future[tuple[bool, int | None]]] = {}
        self.seq = 0
        self._pending_content: list[str] = []
        self._pending_reasoning: list[str] = []
        # Text and tool states waiting for the publisher, in the order they came.
        self._queued: list[tuple[str, str] | ToolRunState] = []
        # Frames built but not yet known to be published: sent again, same seq, until they are.
        self._unsent: list[DeltaFrame | ToolFrame] = []
        # The tool runs as the frames sent so far show them: what a snapshot may show.
        self._sent_tools: dict[str, ToolRunState] = {}
        self._tools_changed = 0
        # How much text the deltas sent so far cover: what a snapshot may show.
        self._sent_content = 0
        self._sent_reasoning = 0
        self._has_pending = asyncio.Event()
        self._over = False  # the stream ended: the publisher returns, _finish sends the rest
        self._stream_task: asyncio.Task[None] | None = None
        self._started = time.monotonic()
        self._first_token_at: float | None = None
        self._reasoning_started_at: float | None = None
        self.reasoning_ms: int | None = None
        self._layer = groups.channel_layer()
        self._audience = groups.Audience(self.conversation_id)
        self._control_channel = ""
        # One id per upstream request: the usage row is written for it exactly once.
        self.request_id = uuid.uuid4()

    # --- life cycle -------------------------------------------------------------------

    async def listen(self) -> None:
        # A plain channel, not a process-specific one: on Redis, all of a process's specific
        # channels are read by one shared blocking pop, and ending this listener while it
        # waited there could swallow a frame meant for a socket.
        self._control_channel = f"generation-control.{self.message_id}.{uuid.uuid4().hex}"
        await self._layer.group_add(generation_group(self.message_id), self._control_channel)

    def start(self) -> None:
        _running[self.message_id] = self
        self.task = asyncio.create_task(self.run(), name=f"generation-{self.message_id}")
        self.task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        _running.pop(self.message_id, None)
        _log_failure(task)

    async def run(self) -> None:
        self._stream_task = asyncio.create_task(self._stream())
        listener = asyncio.create_task(self._listen())
        publisher = asyncio.create_task(self._publish_loop())
        flusher = asyncio.create_task(self._flush_loop())
        for helper in (listener, publisher, flusher):
            helper.add_done_callback(_log_failure)
        status: str = Message.Status.INTERRUPTED
        try:
            await asyncio.wait({self._stream_task})
            status = self._status()
        finally:
            if not self._stream_task.done():
                self._stream_task.cancel()  # run() itself was cancelled: the server stops
                self.error = texts.ANSWER_INTERRUPTED
            flusher.cancel()  # the final save carries the text
            # Asked, not cancelled: on Redis a group_send cancelled half-way loses its frame.
            self._over = True
            self._has_pending.set()
            await asyncio.wait({publisher, flusher})
            # Shielded: a second cancellation must not cost the answer its final save.
            await asyncio.shield(self._finish(status))
            await self._end_listening(listener)
        if status == Message.Status.COMPLETE and self._wants_title():
            await self._title()

    def _wants_title(self) -> bool:
        # The demo provider's canned answer would make every title the same.
        return (
            settings.CHAT_AUTO_TITLES
            and self.request is not None
            and self.request.wants_title
            and not self.provider.is_demo
        )

    async def _title(self) -> None:
        """The first answer is saved and shown: now a title, best effort."""
        try:
            title = await title_generate(answer_id=self.message_id, provider=self.provider)
            if title:
                frame = title_frame(conversation_id=self.conversation_id, title=title)
                await self._send_to_viewers(frame, fresh=True)
        except Exception:
            logger.exception("generation %s: the title failed", self.message_id)

    async def _end_listening(self, listener: asyncio.Task[None]) -> None:
        """Ask the listener to return rather than cancel it in the middle of a read."""
        try:
            await self._layer.send(self._control_channel, {"type": groups.END})
            await asyncio.wait({listener}, timeout=5)
        except Exception:
            logger.warning("generation %s: ending its listener failed", self.message_id)
        finally:
            listener.cancel()

    def _status(self) -> str:
        assert self._stream_task is not None
        if self._stream_task.cancelled():
            return Message.Status.STOPPED if self.stop_requested else Message.Status.INTERRUPTED
        exc = self._stream_task.exception()
        if isinstance(exc, ToolRoundsExhausted):
            self.error = texts.TOOL_ROUNDS_EXHAUSTED.format(rounds=settings.CHAT_TOOL_ROUNDS)
            return Message.Status.INCOMPLETE
        if isinstance(exc, UpstreamError):
            self.failure = exc
            self.error = exc.message
            if self._first_token_at and exc.kind in (FailureKind.DROPPED, FailureKind.STALLED):
                return Message.Status.INCOMPLETE  # cut off, not refused
            return Message.Status.ERROR
        if exc is not None:
            logger.error("generation %s failed", self.message_id, exc_info=exc)
            self.error = texts.ANSWER_FAILED
            return Message.Status.ERROR
        if not self.finish_reason:
            self.error = texts.ANSWER_CUT_SHORT
            return Message.Status.INCOMPLETE
        return Message.Status.COMPLETE

    # --- streaming --------------------------------------------------------------------

    async def _stream(self) -> None:
        if self.request is None:
            self.request = await database_sync_to_async(chat_request_build)(
                message_id=self.message_id
            )
        if self.request.retrieval:
            # The question's vector, asked for here: the send's transaction cannot wait on it.
            self.request = await chat_request_retrieve(self.request)
        request = self.request
        self.provider = request.provider
        client = UpstreamClient(self.provider, read_every=settings.CHAT_DELTA_INTERVAL)
        self.model = request.model or await model_default(client)
        self._client = client
        # A round is one upstream request; it ends with the model's answer, or with tool
        # calls, which run before the next round sends their results.
        for number in itertools.count(1):
            if number > 1 and self.content and not "".join(self.content).endswith("\n"):
                self._received(content="\n\n")  # each round's text a paragraph of its own
            await self._stream_round(client, request.body(self.model, self.rounds))
            calls = [self.tool_calls[i] for i in sorted(self.tool_calls)]
            if not (calls and request.offered and self.finish_reason):
                return  # the answer (tool calls offered nothing to run stay on it as before)
            await self._round_over()
            content_at = len("".join(self.content))
            made = [
                tool_run_new(
                    round_number=number,
                    index=index,
                    call=call,
                    offered=request.offered,
                    content_at=content_at,
                )
                for index, call in enumerate(calls)
            ]
            if number > settings.CHAT_TOOL_ROUNDS:
                for state, _ in made:
                    self._tool_state(
                        tool_runs.tool_run_end(
                            state,
                            tool_runs.REFUSED,
                            texts.TOOL_ROUNDS_EXHAUSTED.format(rounds=settings.CHAT_TOOL_ROUNDS),
                        )
                    )
                raise ToolRoundsExhausted
            limit = settings.CHAT_TOOL_CALLS_PER_ROUND
            for index, (state, _) in enumerate(made[limit:], start=limit):
                text = texts.TOOL_TOO_MANY.format(limit=limit)
                made[index] = (tool_runs.tool_run_end(state, tool_runs.REFUSED, text), None)
            for state, _ in made:
                self._tool_state(state)
            # Parallel calls run together; Stop cancels them all (and each on its server).
            await asyncio.gather(
                *(
                    self._tool_run(state, arguments)
                    for state, arguments in made
                    if arguments is not None
                )
            )
            if self.stop_requested:
                # A Stop that a call's teardown absorbed: the answer stops here all the same.
                raise asyncio.CancelledError
            self.rounds = tool_rounds_messages("".join(self.content), list(self.tool_runs.values()))

    async def _stream_round(self, client: UpstreamClient, body: dict[str, Any]) -> None:
        self._round_started = time.monotonic()
        self._round_first_token = None
        # What this round writes starts here: its own usage estimate counts from here.
        self._round_from = (len("".join(self.content)), len("".join(self.reasoning)))
        try:
            # aclosing: however this loop is left, the upstream response is closed at once.
            async with aclosing(client.stream_chat(body)) as events:
                async for event in events:
                    if isinstance(event, ContentDelta):
                        self._received(content=event.text)
                    elif isinstance(event, ReasoningDelta):
                        self._received(reasoning=event.text)
                    elif isinstance(event, ToolCallDelta):
                        self._tool_call_piece(event)
                    elif isinstance(event, Finish):
                        self.finish_reason = event.reason
                    elif isinstance(event, UsageReport):
                        self.usage = event
                    elif isinstance(event, Retrying):
                        await self._retrying(event)
        finally:
            # Stopped mid-stream: the text held back for a possible <think> tag is kept.
            for piece in client.held_back():
                if isinstance(piece, ContentDelta):
                    self._received(content=piece.text)
                else:
                    self._received(reasoning=piece.text)

    async def _round_over(self) -> None:
        """A round ended with tool calls: its request's usage row is recorded at once (and
        again by the final save only if that failed), and the next round is a new request."""
        assert self.request is not None
        now = time.monotonic()
        if self.usage is not None:
            counts = UsageCounts.from_report(self.usage)
        else:
            content_from, reasoning_from = self._round_from
            written = (
                "".join(self.content)[content_from:] + "".join(self.reasoning)[reasoning_from:]
            )
            called = tool_calls_text(list(self.tool_calls.values()))
            counts = await asyncio.to_thread(
                usage_estimate,
                prompt_text=self.request.prompt_text_with(self.rounds),
                completion_text=written + called,
                model=self.model,
            )
        first = self._round_first_token
        earlier = RoundRequest(
            request_id=self.request_id,
            counts=counts,
            latency_ms=round((now - self._round_started) * 1000),
            time_to_first_token_ms=round((first - self._round_started) * 1000) if first else None,
        )
        # Kept for the final save until it is known to be written (Stop may come mid-write).
        self.round_requests.append(earlier)
        try:
            await database_sync_to_async(answer_round_record)(
                request=self.request,
                message_id=self.message_id,
                provider=self.provider.name,
                model=self.model,
                earlier=earlier,
            )
        except (OperationalError, InterfaceError) as exc:
            logger.warning("generation %s: a round's usage waits: %s", self.message_id, exc)
        self.request_id = uuid.uuid4()
        self.usage = None
        self.finish_reason = ""
        self.tool_calls = {}
        if self._client is not None:
            # The next round's request is not sent yet: stopped before it is, it has no row.
            self._client.request_sent = False

    # --- tools ------------------------------------------------------------------------

    def _tool_state(self, state: ToolRunState) -> None:
        """A run's new state: kept, flushed with the text, and published in order."""
        self.tool_runs[state["id"]] = state
        self._queue_text()
        self._queued.append(state)
        self._tools_changed += 1
        self._has_pending.set()

    async def _tool_run(self, state: ToolRunState, arguments: dict[str, Any]) -> None:
        assert self.request is not None
        started: float | None = None  # when it began to run: its duration is the tool's
        try:
            if state["status"] == tool_runs.ASKED:
                approved, by = await self._approval(state["id"])
                if not approved:
                    text = texts.TOOL_DECLINED if by else texts.TOOL_NO_DECISION
                    state = tool_runs.tool_run_end(state, tool_runs.DECLINED, text)
                    return
                state = {**state, "status": tool_runs.RUNNING, "approved_by": by}
                self._tool_state(state)
            started = time.monotonic()
            assert state["tool_id"] is not None
            target = await database_sync_to_async(tool_runs.tool_run_target)(
                user_id=self.request.user_id, tool_id=state["tool_id"]
            )
            if target is None:  # withdrawn by an admin since the answer began
                text = texts.TOOL_NOT_OFFERED.format(name=state["name"][:80])
                state = tool_runs.tool_run_end(state, tool_runs.REFUSED, text)
            else:
                config, name = target
                mcp_tool_call = await _client_call()
                result = await mcp_tool_call(
                    config,
                    name,
                    arguments,
                    seconds=settings.MCP_TOOL_TIMEOUT,
                    limit=settings.MCP_RESULT_MAX_CHARS,
                )
                status = tool_runs.FAILED if result.is_error else tool_runs.DONE
                state = tool_runs.tool_run_end(
                    state, status, result.text, truncated=result.truncated
                )
        except asyncio.CancelledError:
            state = tool_runs.tool_run_end(state, tool_runs.CANCELLED, texts.TOOL_CANCELLED)
            raise
        except (ServerUnavailable, AddressRefused) as exc:
            # The detail is for the log; the page and the model get the plain fact.
            logger.warning("generation %s: tool %s failed: %s", self.message_id, state["name"], exc)
            state = tool_runs.tool_run_end(state, tool_runs.FAILED, texts.TOOL_UNAVAILABLE)
        except BaseException as exc:
            # The SDK's task groups may turn a Stop into a group that holds the
            # cancellation, or into the failure of a stream closed under it: a stop all
            # the same, and it must not be taken for the tool's failure.
            if self.stop_requested or _holds_cancellation(exc):
                state = tool_runs.tool_run_end(state, tool_runs.CANCELLED, texts.TOOL_CANCELLED)
                raise asyncio.CancelledError from None
            if not isinstance(exc, Exception):
                raise
            logger.exception("generation %s: tool %s failed", self.message_id, state["name"])
            state = tool_runs.tool_run_end(state, tool_runs.FAILED, texts.TOOL_UNAVAILABLE)
        finally:
            if started is not None:
                state = {**state, "duration_ms": round((time.monotonic() - started) * 1000)}
            self._tool_state(state)

    async def _approval(self, run_id: str) -> tuple[bool, int | None]:
        """The user's decision on a call, from any of their pages, in any process."""
        decision: asyncio.Future[tuple[bool, int | None]] = (
            asyncio.get_running_loop().create_future()
        )
        self._decisions[run_id] = decision
        try:
            # Not wait_for: on Python 3.11 it swallows a Stop that arrives together with
            # the decision, and the tool would run after the user pressed Stop.
            async with asyncio.timeout(settings.CHAT_TOOL_APPROVAL_SECONDS):
                return await decision
        except TimeoutError:
            return False, None
        finally:
            self._decisions.pop(run_id, None)

    async def _retrying(self, event: Retrying) -> None:
        self.failed_attempts.append(
            FailedAttempt(uuid.uuid4(), event.status_code, event.message, event.reached)
        )
        await self._send_to_viewers(
            retrying_frame(
                message_id=self.message_id,
                attempt=event.attempt,
                delay=event.delay,
                reason=event.message,
            )
        )

    def _received(self, *, content: str = "", reasoning: str = "") -> None:
        now = time.monotonic()
        if self._first_token_at is None:
            self._first_token_at = now
        if self._round_first_token is None:
            self._round_first_token = now
        if reasoning and self._reasoning_started_at is None:
            self._reasoning_started_at = now
        if content:
            self._reasoning_over(now)
            self.content.append(content)
            self._pending_content.append(content)
        if reasoning:
            self.reasoning.append(reasoning)
            self._pending_reasoning.append(reasoning)
        self._has_pending.set()

    def _reasoning_over(self, now: float) -> None:
        """The answer (or a tool call) follows the reasoning: how long it thought is known."""
        if self._reasoning_started_at is not None and self.reasoning_ms is None:
            self.reasoning_ms = round((now - self._reasoning_started_at) * 1000)

    def _tool_call_piece(self, piece: ToolCallDelta) -> None:
        now = time.monotonic()
        if self._first_token_at is None:
            self._first_token_at = now
        if self._round_first_token is None:
            self._round_first_token = now
        self._reasoning_over(now)
        call = self.tool_calls.setdefault(
            piece.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if piece.id:
            call["id"] = piece.id
        if piece.name:
            call["function"]["name"] = piece.name
        call["function"]["arguments"] += piece.arguments

    # --- helpers running beside the stream ----------------------------------------------

    async def _listen(self) -> None:
        """Obey Stop and answer snapshot requests, from any process's sockets."""
        while True:
            try:
                message = await self._layer.receive(self._control_channel)
                if message.get("type") == groups.END:
                    return
                if message.get("type") == groups.STOP:
                    self.stop_requested = True
                    # Cancelling the stream leaves the response context: the
                    # upstream connection is closed, not just ignored.
                    if self._stream_task is not None:
                        self._stream_task.cancel()
                elif message.get("type") == groups.APPROVE:
                    self._decided(message)
                elif message.get("type") == groups.SNAPSHOT:
                    await self._audience.snapshot_to(message["reply_channel"], self._snapshot)
            except Exception:
                logger.exception("generation %s: its control channel failed", self.message_id)
                await asyncio.sleep(1)

    def _decided(self, message: dict[str, Any]) -> None:
        """An approval or a refusal from the user's page (the socket checked it is theirs)."""
        decision = self._decisions.get(str(message.get("run_id")))
        if decision is not None and not decision.done():
            decision.set_result((bool(message.get("approved")), message.get("user_id")))

    def _snapshot(self) -> SnapshotFrame:
        # Exactly the text the deltas up to seq carry: the deltas after it add the rest.
        return snapshot_frame(
            message_id=self.message_id,
            seq=self.seq,
            content="".join(self.content)[: self._sent_content],
            reasoning="".join(self.reasoning)[: self._sent_reasoning],
            tools=list(self._sent_tools.values()),
        )

    async def _publish_loop(self) -> None:
        # The first delta goes out at once (time to first token); after that at most one
        # frame per interval, however fast the upstream is. A send that fails (Redis out
        # for longer than the layer waits) is tried again: the publisher never gives up
        # while the answer is written, and the text that came meanwhile follows.
        # The sending task clears _has_pending when it starts, which may be after the
        # stream ended and set it: so _over is read again before every wait.
        while not self._over:
            await self._has_pending.wait()
            if self._over:
                return
            sending = asyncio.create_task(self._publish_pending())
            while not sending.done():
                await asyncio.wait({sending}, timeout=0.1)
                if self._over and not sending.done():
                    # Redis is slow or away and the answer is over: the final save must
                    # not wait for it. The frame stays unsent; _finish sends it again.
                    sending.cancel()
                    return
            if sending.cancelled() or sending.exception() is not None:
                logger.warning("generation %s: publishing failed, retrying", self.message_id)
                self._has_pending.set()
            await asyncio.sleep(settings.CHAT_DELTA_INTERVAL)

    def _queue_text(self) -> None:
        """The text received since the last frame goes before whatever comes next."""
        if self._pending_content or self._pending_reasoning:
            text = ("".join(self._pending_content), "".join(self._pending_reasoning))
            self._pending_content.clear()
            self._pending_reasoning.clear()
            self._queued.append(text)

    async def _publish_pending(self) -> None:
        self._has_pending.clear()
        # In the order things happened: a tool's result before the text written after it.
        self._queue_text()
        for item in self._queued:
            self.seq += 1
            if isinstance(item, tuple):
                content, reasoning = item
                # A snapshot covers this delta from now on, sent or not: a viewer that
                # gets it after the snapshot drops it by its seq.
                self._sent_content += len(content)
                self._sent_reasoning += len(reasoning)
                frame: DeltaFrame | ToolFrame = delta_frame(
                    message_id=self.message_id, seq=self.seq, content=content, reasoning=reasoning
                )
            else:
                self._sent_tools[item["id"]] = item
                frame = tool_frame(message_id=self.message_id, seq=self.seq, run=item)
            self._unsent.append(frame)
        self._queued.clear()
        # Frames whose send failed go again first, with their seq: a viewer drops a second
        # copy by its seq, and nothing after them overtakes them.
        while self._unsent:
            await self._send_to_viewers(self._unsent[0])
            self._unsent.pop(0)

    async def _flush_loop(self) -> None:
        flushed = (0, 0, 0)
        last_write = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            now = time.monotonic()
            sizes = (len(self.content), len(self.reasoning), self._tools_changed)
            if sizes != flushed or now - last_write >= HEARTBEAT_INTERVAL:
                try:
                    await database_sync_to_async(assistant_message_flush)(
                        message_id=self.message_id,
                        content="".join(self.content),
                        reasoning="".join(self.reasoning),
                        tool_runs=list(self.tool_runs.values()),
                    )
                except (OperationalError, InterfaceError) as exc:
                    # The database is down or restarting: one line a flush, no traceback.
                    # The next flush, or the final save, carries the text all the same.
                    logger.warning("generation %s: a flush failed: %s", self.message_id, exc)
                    continue
                except Exception:
                    logger.exception("generation %s: a flush failed", self.message_id)
                    continue
                flushed, last_write = sizes, now

    async def _send_to_viewers(self, frame: ServerFrame, *, fresh: bool = False) -> None:
        await self._audience.publish(frame, fresh=fresh)

    # --- the end ----------------------------------------------------------------------

    async def _finish(self, status: str) -> None:
        result = self._result(status)
        saved = await self._save(result)
        if saved is None:
            status = await self._save_failed()
            result.outcome = replace(result.outcome, status=status, error=texts.ANSWER_NOT_SAVED)
        usage = saved or UsageCounts()
        logger.info(
            "generation message=%s conversation=%s user=%s status=%s model=%s prompt=%s "
            "completion=%s estimated=%s retries=%s tool_rounds=%s ttft_ms=%s duration_ms=%s",
            self.message_id,
            self.conversation_id,
            self.request.user_id if self.request else "-",
            result.outcome.status,
            result.model,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.estimated,
            len(self.failed_attempts),
            len(self.round_requests),
            result.time_to_first_token_ms,
            result.duration_ms,
        )
        try:
            await self._publish_pending()
            self.seq += 1
            await self._send_to_viewers(
                done_frame(
                    message_id=self.message_id, seq=self.seq, outcome=result.outcome, usage=usage
                ),
                # Every socket that joined until now, a page that read the answer as
                # streaming just before the save included.
                fresh=True,
            )
        except Exception:
            # Pages mend it when they subscribe again: the saved answer is their done.
            logger.exception("generation %s: telling the viewers failed", self.message_id)
        try:
            await self._layer.group_discard(
                generation_group(self.message_id), self._control_channel
            )
        except Exception:
            logger.warning("generation %s: leaving its Stop group failed", self.message_id)

    async def _save(self, result: GenerationResult) -> UsageCounts | None:
        """The final save, retried: a locked database must not lose the answer."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                counts = await database_sync_to_async(assistant_message_finalize)(
                    request=self.request,
                    message_id=self.message_id,
                    request_id=self.request_id,
                    result=result,
                )
                return counts or result.usage_counts()
            except Exception:
                logger.exception(
                    "generation %s: final save failed (attempt %s)", self.message_id, attempt
                )
                if attempt < SAVE_ATTEMPTS:
                    await asyncio.sleep(attempt)
        return None

    async def _save_failed(self) -> str:
        """The status the row ends with when the final save failed for good, for the done
        frame to say: `error` if a last, status-only update works; else the row stays
        streaming until the stale-stream sweep marks it `interrupted`."""
        try:
            await database_sync_to_async(assistant_message_fail)(
                message_id=self.message_id, error=texts.ANSWER_NOT_SAVED
            )
            return Message.Status.ERROR
        except Exception:
            logger.exception("generation %s: marking it failed failed too", self.message_id)
            return Message.Status.INTERRUPTED

    def _result(self, status: str) -> GenerationResult:
        now = time.monotonic()
        self._reasoning_over(now)  # it ended while still reasoning
        ttft = self._first_token_at
        round_ttft = self._round_first_token
        usage = self.usage
        # Refused, or failed before the provider answered 200: it read no prompt.
        refused = self.failure is not None and not self.failure.reached
        # Stopped before the request went out, or while waiting to retry: no usage row.
        sent = self._client is not None and self._client.request_sent
        runs = [tool_runs.tool_run_over(run) for run in self.tool_runs.values()]
        return GenerationResult(
            outcome=AnswerOutcome(
                status=status,
                content="".join(self.content),
                reasoning="".join(self.reasoning),
                reasoning_ms=self.reasoning_ms,
                tool_calls=[self.tool_calls[i] for i in sorted(self.tool_calls)],
                tool_runs=runs,
                finish_reason=self.finish_reason,
                error=self.error,
            ),
            provider=self.provider.name,
            model=self.model,
            usage=None if usage is None else UsageCounts.from_report(usage),
            billable=sent and not refused,
            sent=sent,
            prompt_text=self.request.prompt_text_with(self.rounds) if self.request else "",
            reasoning_from=self._round_from[1],
            failed_attempts=self.failed_attempts,
            rounds=self.round_requests,
            time_to_first_token_ms=round((ttft - self._started) * 1000) if ttft else None,
            duration_ms=round((now - self._started) * 1000),
            request_first_token_ms=(
                round((round_ttft - self._round_started) * 1000) if round_ttft else None
            ),
            request_latency_ms=round((now - self._round_started) * 1000),
        )
