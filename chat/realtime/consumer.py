"""The chat websocket: authenticate, validate each frame, check ownership, call services,
join conversation groups and forward what generations publish. Nothing else lives here."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from chat import texts
from chat.json_input import JSONInvalid, JSONTooDeep, json_read
from chat.models import Conversation, Message, Project, Usage, User
from chat.realtime import groups, liveness
from chat.realtime.frames import (
    BranchFrame,
    ServerFrame,
    branch_frame,
    conversation_frame,
    done_frame_from_message,
    error_frame,
    frame_texts,
    message_frame,
    pong_frame,
    shown_frame,
    subscribed_frame,
)
from chat.realtime.generation import generation_prepare
from chat.realtime.groups import (
    conversation_group,
    conversation_publish,
    generation_decide,
    generation_stop,
    snapshot_request,
)
from chat.realtime.language import scope_language
from chat.realtime.protocol import (
    CLOSE_ACCOUNT_INACTIVE,
    CLOSE_LAYER_RECOVERED,
    CLOSE_TOO_MANY_FRAMES,
    CLOSE_UNAUTHENTICATED,
    Approve,
    ClientFrame,
    Edit,
    Ping,
    ProtocolError,
    Regenerate,
    SelectBranch,
    Send,
    Stop,
    Subscribe,
    parse_client_frame,
)
from chat.realtime.ratelimit import TokenBucket
from chat.realtime.snapshots import SnapshotGate
from chat.selectors import (
    answers_ended,
    answers_streaming,
    branch_siblings,
    conversation_branch,
    conversation_get,
    documents_by_message,
    message_get,
    message_usage,
)
from chat.services.answers.branches import (
    BranchStarted,
    NotBranchable,
    branch_select,
    message_edit,
    message_regenerate,
)
from chat.services.answers.interruptions import message_is_stale, streams_interrupt_stale
from chat.services.answers.sending import SentMessage, message_send
from chat.services.conversations.attachments import (
    AttachmentInvalid,
    AttachmentNotFound,
    attachment_summary,
    attachments_of,
)
from chat.services.conversations.lifecycle import GenerationInProgress
from chat.services.conversations.parameters import SettingsInvalid, settings_clean
from chat.services.documents.library import DocumentNotFound, document_summary
from chat.services.providers import ModelNotAllowed
from chat.services.usage.limits import AccountInactive, LimitReached

logger = logging.getLogger(__name__)

# Waited out before `unavailable`: about 5.5 s, more than a PostgreSQL restart takes.
DATABASE_RETRY_DELAYS = (0.5, 1.0, 2.0, 2.0)
T = TypeVar("T")
R = TypeVar("R")


# Why a send, a regenerate, an edit or a branch choice may be turned away; each is told
# to the page by `_refused`, the socket stays open and nothing was saved.
REFUSALS = (
    Conversation.DoesNotExist,
    Message.DoesNotExist,
    AttachmentNotFound,
    AttachmentInvalid,
    DocumentNotFound,
    Project.DoesNotExist,
    NotBranchable,
    SettingsInvalid,
    GenerationInProgress,
    LimitReached,
    ModelNotAllowed,
)


def _refused(exc: Exception) -> ProtocolError:
    """A refusal as the page is told it: a code it acts on, and a text for the person."""
    match exc:
        case Conversation.DoesNotExist():
            return ProtocolError("not_found", texts.CONVERSATION_NOT_FOUND)
        case Message.DoesNotExist():
            return ProtocolError("not_found", texts.MESSAGE_NOT_FOUND)
        case AttachmentNotFound():
            return ProtocolError("not_found", texts.IMAGE_NOT_FOUND)
        case DocumentNotFound():
            return ProtocolError("not_found", texts.DOCUMENT_NOT_FOUND)
        case Project.DoesNotExist():
            return ProtocolError("not_found", texts.PROJECT_NOT_FOUND)
        case AttachmentInvalid() | NotBranchable():
            return ProtocolError("invalid_field", str(exc))
        case SettingsInvalid():
            return ProtocolError("invalid_settings", str(exc))
        case GenerationInProgress():
            return ProtocolError("busy", texts.BUSY)
        case LimitReached():
            return ProtocolError("limit_reached", exc.message)
        case ModelNotAllowed():
            return ProtocolError("model_not_allowed", str(exc))
    raise TypeError(f"not a refusal: {exc!r}")


class ChatConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One handler at a time, as Channels runs them, with the frames of the Inbox
        # (read beside the channel layer) among them.
        self._dispatching = asyncio.Lock()
        self._inbox_reader: asyncio.Task[None] | None = None
        self._language: str | None = None

    @property
    def language(self) -> str:
        """The socket's language, read from its scope once (see chat/realtime/language.py)."""
        if self._language is None:
            self._language = scope_language(self.scope)
        return self._language

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the socket ended (disconnect() is not called when a handler fails,
            # nor when the server gives up on the consumer), its inbox goes with it.
            self._inbox_close()

    def _inbox_close(self) -> None:
        if self._inbox_reader is not None:
            groups.site_layer().inbox_close(self.channel_name)
            self._inbox_reader.cancel()
            self._inbox_reader = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.groups_joined: set[str] = set()
        self.snapshots = SnapshotGate()
        # Answers this socket was shown, all in conversations whose ownership was checked
        # when it joined them: Stop reaches these before any database work.
        self.shown_answers: set[int] = set()
        self.bucket = TokenBucket(
            rate=settings.CHAT_FRAMES_PER_SECOND, burst=settings.CHAT_FRAME_BURST
        )
        self.refused_in_a_row = 0
        self.opened = time.monotonic()
        self.frames_in = 0
        self.closing = False
        # Signed out, the scope holds an AnonymousUser; signed in, a lazy object standing
        # for the User, which isinstance sees through.
        if not isinstance(user, User):
            # Closed before it is accepted, daphne answers the handshake with HTTP 403 and
            # the browser sees only 1006, so the page would retry forever. Accepted, then
            # closed: the page gets 4401 and knows to stop and offer to sign in.
            self.closing = True
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user: User = user
        await self.accept()
        # Frames from this process (its generations, its other sockets) come in memory.
        inbox = groups.site_layer().inbox_open(self.channel_name)
        if inbox is not None:
            self._inbox_reader = asyncio.create_task(self._read_inbox(inbox.queue))

    async def _read_inbox(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            message = await queue.get()
            try:
                await self.dispatch(message)
            except Exception:
                # As a failing handler would: the socket closes, the page reconnects.
                logger.exception("websocket user=%s: a frame failed", self.user.pk)
                await self.close(code=1011)
                return

    async def disconnect(self, code: int) -> None:
        user: User | None = getattr(self, "user", None)  # None: refused in connect()
        logger.info(
            "websocket user=%s code=%s frames_in=%s ms=%.0f",
            user.pk if user is not None else "-",
            code,
            getattr(self, "frames_in", 0),
            (time.monotonic() - getattr(self, "opened", time.monotonic())) * 1000,
        )
        # Leaving the groups is all: generations run on without any socket.
        self._inbox_close()
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # A flood leaves frames queued behind the close: they are not read, nor logged.
        if self.closing:
            return
        self.frames_in += 1
        if not self.bucket.allow():
            self.refused_in_a_row += 1
            if self.refused_in_a_row > settings.CHAT_FRAME_ABUSE_LIMIT:
                logger.warning("closing the socket of user %s: frame flood", self.user.pk)
                self.closing = True
                await self.close(code=CLOSE_TOO_MANY_FRAMES)
                return
            await self.send_json(
                error_frame("rate_limited", gettext("Too many frames: slow down."))
            )
            return
        self.refused_in_a_row = 0
        if text_data is None:
            await self.send_json(error_frame("invalid_frame", "Frames must be JSON text."))
            return
        try:
            data = await self.decode_json(text_data)
        except JSONInvalid:
            await self.send_json(error_frame("invalid_json", "The frame is not valid JSON."))
            return
        except JSONTooDeep as exc:
            await self.send_json(error_frame("invalid_json", str(exc)))
            return
        await self.receive_json(data)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # The base class's json.loads lets RecursionError through: every frame is read
        # with its nesting bounded, whichever path reads it.
        return json_read(text_data)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        try:
            frame = parse_client_frame(content)
            await self._handle(frame)
        except ProtocolError as exc:
            await self.send_json(error_frame(exc.code, exc.message))

    async def _handle(self, frame: ClientFrame) -> None:
        try:
            await self._handle_frame(frame)
        except (OperationalError, InterfaceError) as exc:
            # The database is down (a stop, a subscribe…): refused, and the socket stays open.
            logger.warning("a %s frame met an unavailable database: %s", type(frame).__name__, exc)
            raise ProtocolError("unavailable", texts.UNAVAILABLE) from None

    async def _handle_frame(self, frame: ClientFrame) -> None:
        if isinstance(frame, Send):
            await self._send_message(frame)
        elif isinstance(frame, Stop):
            await self._stop(frame)
        elif isinstance(frame, Approve):
            await self._approve(frame)
        elif isinstance(frame, Subscribe):
            await self._subscribe(frame)
        elif isinstance(frame, Ping):
            await self.send_json(pong_frame())
        elif isinstance(frame, Regenerate | Edit):
            await self._start_branch(frame)
        elif isinstance(frame, SelectBranch):
            await self._select_branch(frame)

    async def _database(self, call: Callable[[T], Awaitable[R]], frame: T) -> R:
        """A send's (or a branch's) database work, waited for through a database restart:
        retried while the database cannot be reached (it saved nothing, in one
        transaction), then refused with `unavailable`. The socket stays open either way."""
        for delay in (*DATABASE_RETRY_DELAYS, None):
            try:
                return await call(frame)
            except (OperationalError, InterfaceError) as exc:
                if delay is None:
                    logger.warning("the database is unavailable: %s", exc)
                    raise ProtocolError("unavailable", texts.UNAVAILABLE_SEND) from None
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _send_message(self, frame: Send) -> None:
        try:
            sent = await self._database(self._message_send, frame)
        except REFUSALS as exc:
            raise _refused(exc) from None
        except AccountInactive:
            await self.close(code=CLOSE_ACCOUNT_INACTIVE)
            return
        conversation = sent.conversation
        # Join before the generation starts, so no delta can go out before we listen.
        await self._join(conversation.pk)
        if sent.conversation_created:
            await self.send_json(
                conversation_frame(
                    conversation_id=conversation.pk,
                    title=conversation.title,
                    url=reverse("chat:conversation", args=[conversation.pk]),
                )
            )
        generation = await generation_prepare(
            message_id=sent.assistant_message.pk,
            conversation_id=conversation.pk,
            request=sent.request,
        )
        try:
            images = [attachment_summary(a) for a in sent.attachments]
            brought = [document_summary(d) for d in sent.documents]
            await conversation_publish(
                conversation.pk, message_frame(sent.user_message, images, brought)
            )
            await conversation_publish(conversation.pk, message_frame(sent.assistant_message))
        finally:
            generation.start()

    async def _start_branch(self, frame: Regenerate | Edit) -> None:
        """A regenerated answer or an edited question: a new branch, shown whole, streaming."""
        try:
            started, frame_out = await self._database(self._branch_start, frame)
        except REFUSALS as exc:
            raise _refused(exc) from None
        except AccountInactive:
            await self.close(code=CLOSE_ACCOUNT_INACTIVE)
            return
        conversation_id = started.conversation.pk
        await self._join(conversation_id)
        generation = await generation_prepare(
            message_id=started.assistant_message.pk,
            conversation_id=conversation_id,
            request=started.request,
        )
        try:
            await conversation_publish(conversation_id, frame_out)
        finally:
            generation.start()

    async def _select_branch(self, frame: SelectBranch) -> None:
        try:
            conversation_id, frame_out = await self._branch_select(frame)
        except REFUSALS as exc:
            raise _refused(exc) from None
        await self._join(conversation_id)
        # Every open page of the conversation follows: the selection is the conversation's.
        await conversation_publish(conversation_id, frame_out)

    async def _stop(self, frame: Stop) -> None:
        if frame.message_id in self.shown_answers:
            await generation_stop(message_id=frame.message_id)
        found = await self._message_for_stop(frame.message_id)
        if found is None:
            raise ProtocolError("not_found", texts.MESSAGE_NOT_FOUND)
        message, usage = found
        if message.status == Message.Status.STREAMING:
            if message.pk not in self.shown_answers:
                await generation_stop(message_id=message.pk)
            return
        # Already over, or its process died: the saved state unlocks every open page.
        await self._join(message.conversation_id)
        await conversation_publish(message.conversation_id, done_frame_from_message(message, usage))

    async def _approve(self, frame: Approve) -> None:
        """A decision on a tool call reaches the generation only for the user's own answer
        while it is written; another user's id answers like a missing one."""
        status = await self._answer_status(frame.message_id)
        if status is None:
            raise ProtocolError("not_found", texts.MESSAGE_NOT_FOUND)
        if status != Message.Status.STREAMING:
            raise ProtocolError("not_waiting", texts.TOOL_NOT_WAITING)
        await generation_decide(
            message_id=frame.message_id,
            run_id=frame.run_id,
            approved=frame.approved,
            user_id=self.user.pk,
        )

    async def _subscribe(self, frame: Subscribe) -> None:
        if not await self._owns_conversation(frame.conversation_id):
            raise ProtocolError("not_found", texts.CONVERSATION_NOT_FOUND)
        # Join first, then read: whatever happens after the read reaches this socket.
        await self._join(frame.conversation_id)
        streaming, ended = await self._streaming_state(frame)
        await self.send_json(subscribed_frame(frame.conversation_id))
        if frame.branch:
            # A page back from a lost socket (or a lost Redis) may have missed messages.
            await self.send_json(await self._branch_of(frame.conversation_id))
        for message, usage in ended:
            await self.send_json(done_frame_from_message(message, usage))
        for message_id in streaming:
            # The generation answers on this channel, wherever it runs; deltas until
            # then are dropped, since the snapshot covers them.
            self.snapshots.expect(message_id)
            liveness.watch(message_id, frame.conversation_id)  # its process may have died
            await snapshot_request(message_id=message_id, reply_channel=self.channel_name)

    async def _join(self, conversation_id: int) -> None:
        group = conversation_group(conversation_id)
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def send_json(self, content: ServerFrame, close: bool = False) -> None:
        # A long answer's done, snapshot or branch goes in parts (frames.frame_texts).
        for text in frame_texts(shown_frame(content)):
            await self.send(text_data=text)
        if close:
            await self.close()

    # --- channel-layer events -----------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler: a hop to the
        # database thread for each forwarded delta, which under 100 streams queued them
        # behind the sends (docs/benchmarks.md). Forwarding touches no database, and the
        # ORM calls here go through database_sync_to_async, which does that itself.
        # Every handler speaks the socket's language: the override is held in a context
        # variable, so it reaches the database threads and no other socket's task.
        async with self._dispatching:
            with translation.override(self.language):
                await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == groups.FRAME:
            await self.chat_frame(message)
        elif message["type"] == "layer.recovered":
            self.resubscribing = True
            await self.close(code=CLOSE_LAYER_RECOVERED)
        else:
            await super().dispatch(message)

    async def chat_frame(self, event: dict[str, Any]) -> None:
        if getattr(self, "resubscribing", False):
            return  # closed: the page reconnects and gets it all again
        frame: ServerFrame = event["frame"]
        liveness.observe(frame)  # answers written in another process: is it alive?
        if frame["type"] == "snapshot":
            self.shown_answers.add(frame["message_id"])
        elif frame["type"] == "message" and frame["message"]["role"] == Message.Role.ASSISTANT:
            self.shown_answers.add(frame["message"]["id"])
        elif frame["type"] == "branch":
            self.shown_answers.update(
                m["id"] for m in frame["messages"] if m["role"] == Message.Role.ASSISTANT
            )
        if self.snapshots.admit(frame):
            await self.send_json(frame)

    # --- database -----------------------------------------------------------------------

    @database_sync_to_async
    def _message_send(self, frame: Send) -> SentMessage:
        new_settings = None
        if frame.conversation_id is None and frame.settings:
            new_settings = settings_clean(frame.settings)
        return message_send(
            user=self.user,
            conversation_id=frame.conversation_id,
            content=frame.content,
            provider=frame.model.provider if frame.model else None,
            model=frame.model.model if frame.model else None,
            settings=new_settings,
            attachment_ids=frame.attachment_ids,
            document_ids=frame.document_ids,
            project_id=frame.project_id,
        )

    @database_sync_to_async
    def _branch_start(self, frame: Regenerate | Edit) -> tuple[BranchStarted, BranchFrame]:
        if isinstance(frame, Regenerate):
            started = message_regenerate(user=self.user, message_id=frame.message_id)
        else:
            started = message_edit(
                user=self.user, message_id=frame.message_id, content=frame.content
            )
        return started, self._branch_frame(started.conversation)

    @database_sync_to_async
    def _branch_select(self, frame: SelectBranch) -> tuple[int, BranchFrame]:
        conversation = branch_select(user=self.user, message_id=frame.message_id)
        return conversation.pk, self._branch_frame(conversation)

    @database_sync_to_async
    def _branch_of(self, conversation_id: int) -> BranchFrame:
        return self._branch_frame(conversation_get(user=self.user, conversation_id=conversation_id))

    @staticmethod
    def _branch_frame(conversation: Conversation) -> BranchFrame:
        branch = conversation_branch(conversation=conversation)
        questions = [m.pk for m in branch if m.role == Message.Role.USER]
        images = attachments_of(questions)
        brought = documents_by_message(message_ids=questions)
        return branch_frame(
            conversation_id=conversation.pk,
            branch=branch,
            siblings=branch_siblings(conversation=conversation, branch=branch),
            attachments={k: [attachment_summary(a) for a in v] for k, v in images.items()},
            documents={k: [document_summary(d) for d in v] for k, v in brought.items()},
        )

    @database_sync_to_async
    def _owns_conversation(self, conversation_id: int) -> bool:
        try:
            conversation = conversation_get(user=self.user, conversation_id=conversation_id)
        except Conversation.DoesNotExist:
            return False
        streams_interrupt_stale(conversation=conversation)
        return True

    @database_sync_to_async
    def _streaming_state(
        self, frame: Subscribe
    ) -> tuple[list[int], list[tuple[Message, Usage | None]]]:
        """The conversation's answers still streaming, and those the page thinks are
        streaming but which have ended."""
        return (
            answers_streaming(conversation_id=frame.conversation_id),
            answers_ended(conversation_id=frame.conversation_id, message_ids=frame.streaming_ids),
        )

    @database_sync_to_async
    def _answer_status(self, message_id: int) -> str | None:
        try:
            message = message_get(user=self.user, message_id=message_id)
        except Message.DoesNotExist:
            return None
        return message.status if message.role == Message.Role.ASSISTANT else None

    @database_sync_to_async
    def _message_for_stop(self, message_id: int) -> tuple[Message, Usage | None] | None:
        try:
            message = message_get(user=self.user, message_id=message_id)
        except Message.DoesNotExist:
            return None
        # One select for a live answer: the sweep writes, so it runs only when due.
        if message_is_stale(message) and streams_interrupt_stale(conversation=message.conversation):
            message.refresh_from_db()
        if message.status == Message.Status.STREAMING:
            return message, None
        return message, message_usage(message=message)
