"""Writing messages: a send saves the user's words before anything goes upstream."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Attachment, Conversation, Message, Usage, User
from chat.selectors import conversation_get, conversation_leaf
from chat.services.attachments import attachments_bind
from chat.services.conversation_settings import ConversationSettings
from chat.services.conversations import conversation_create
from chat.services.generations import ChatRequest, chat_request_build, chat_request_first
from chat.services.interruptions import interrupted_request_id
from chat.services.limits import STALE_STREAM_AFTER, limits_check
from chat.services.providers import ModelNotAllowed, model_choice_check
from chat.services.usage import usage_estimate, usage_record


class GenerationInProgress(Exception):
    """The conversation already has an answer streaming."""


@dataclass(frozen=True)
class SentMessage:
    conversation: Conversation
    conversation_created: bool
    user_message: Message
    assistant_message: Message
    request: ChatRequest  # what to send upstream for the answer
    attachments: list[Attachment] = field(default_factory=list)  # the question's images


def message_send(
    *,
    user: User,
    conversation_id: int | None,
    content: str,
    provider: str | None = None,
    model: str | None = None,
    settings: ConversationSettings | None = None,
    attachment_ids: Sequence[int] = (),
) -> SentMessage:
    """Save the user's message and an empty streaming answer to it, together.

    `model` (with its `provider`) switches the conversation to that model first.
    `settings` (validated) are those of a new conversation, chosen before its first message.
    Raises Conversation.DoesNotExist when the conversation is not the user's,
    GenerationInProgress when an answer is still streaming in it, LimitReached or
    AccountInactive when the user may not send now, ModelNotAllowed for a model not
    offered to them; then nothing is saved.
    `attachment_ids` are the user's uploaded images, bound to the question (else
    AttachmentNotFound, and nothing is saved).
    """
    try:
        return _message_send(
            user=user,
            conversation_id=conversation_id,
            content=content,
            provider=provider or "",
            model=model,
            settings=settings,
            attachment_ids=attachment_ids,
        )
    except IntegrityError as exc:
        # Two sends raced: the database's one-streaming-answer rule turned one away.
        raise GenerationInProgress from exc


@transaction.atomic
def _message_send(
    *,
    user: User,
    conversation_id: int | None,
    content: str,
    provider: str,
    model: str | None,
    settings: ConversationSettings | None,
    attachment_ids: Sequence[int],
) -> SentMessage:
    # Checked in the transaction that saves the answer, under a lock on the user's row:
    # two sends of one user on two processes cannot both take the last place.
    allowance = limits_check(user, lock=True)
    if model is not None:
        model_choice_check(provider=provider, model=model, allowance=allowance)
    # A new conversation, the common case under load, costs three inserts and nothing
    # else; every query saved here shortens the queue in front of the first token.
    parent = None
    changed: list[str] = []  # conversation fields to save with the new branch end
    if conversation_id is None:
        if model is None:  # the site's default model: is it one this user may use?
            model_choice_check(provider="", model="", allowance=allowance)
        conversation = conversation_create(
            user=user,
            first_message=content,
            provider=provider,
            model=model or "",
            settings=settings,
        )
        created = True
    else:
        conversation = conversation_get(user=user, conversation_id=conversation_id)
        created = False
        conversation_ensure_idle(conversation)
        # A follow-up continues the branch the user is looking at.
        parent = conversation_leaf(conversation=conversation)
        if model is not None:
            conversation.provider, conversation.model = provider, model
            changed = ["provider", "model"]
        else:  # the conversation's model may have been withdrawn since
            model_choice_check(
                provider=conversation.provider, model=conversation.model, allowance=allowance
            )
    user_message = Message.objects.create(
        conversation=conversation, parent=parent, role=Message.Role.USER, content=content
    )
    attachments = attachments_bind(user=user, message=user_message, attachment_ids=attachment_ids)
    assistant_message = answer_start(
        conversation=conversation,
        question=user_message,
        new_conversation=created,
        also_save=changed,
    )
    request = (
        chat_request_first(
            conversation=conversation, question=user_message, attachments=attachments
        )
        if created
        else chat_request_build(message_id=assistant_message.pk)
    )
    return SentMessage(conversation, created, user_message, assistant_message, request, attachments)


def conversation_ensure_idle(conversation: Conversation) -> None:
    """Raise GenerationInProgress while an answer streams in the conversation."""
    streams_interrupt_stale(conversation=conversation)
    if conversation.messages.filter(status=Message.Status.STREAMING).exists():
        raise GenerationInProgress


def answer_start(
    *,
    conversation: Conversation,
    question: Message,
    new_conversation: bool = False,
    also_save: list[str] | None = None,
) -> Message:
    """An empty streaming answer to `question`, which becomes the selected branch's end.

    A new conversation needs no update: with no leaf remembered, the newest message is it.
    """
    answer = Message.objects.create(
        conversation=conversation,
        parent=question,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        model=conversation.model,
    )
    if not new_conversation:
        conversation.current_leaf = answer
        conversation.save(update_fields=["current_leaf", "updated_at", *(also_save or [])])
    return answer


def message_is_stale(message: Message) -> bool:
    """A streaming answer its process no longer touches."""
    return (
        message.status == Message.Status.STREAMING
        and message.updated_at < timezone.now() - STALE_STREAM_AFTER
    )


def streams_interrupt_stale(
    *, conversation: Conversation | None = None, older_than: timedelta | None = STALE_STREAM_AFTER
) -> int:
    """Mark answers left streaming by a dead process as interrupted; returns how many.

    Called on every send, page load, subscribe and Stop, so an answer whose process died
    unlocks its conversation within STALE_STREAM_AFTER; `older_than=None` marks every
    streaming answer (at the start of a single-process site).
    """
    return len(streams_interrupt(conversation=conversation, older_than=older_than))


def streams_interrupt(
    *,
    conversation: Conversation | None = None,
    message_ids: Sequence[int] | None = None,
    older_than: timedelta | None = STALE_STREAM_AFTER,
) -> list[Message]:
    """Mark the answers left streaming by a dead process as interrupted, each with an
    estimated usage row for its request (it reached the provider, which bills it);
    returns them as saved.

    Each is marked by a conditional update in its own transaction and only the sweep
    whose update changed the row records the usage: sweeps running at once in several
    processes (or `recover_streams` beside them) record exactly one row.
    """
    cutoff = timezone.now() - older_than if older_than is not None else None
    stale = Message.objects.filter(status=Message.Status.STREAMING)
    if cutoff is not None:
        stale = stale.filter(updated_at__lt=cutoff)
    if conversation is not None:
        stale = stale.filter(conversation=conversation)
    if message_ids is not None:
        stale = stale.filter(pk__in=list(message_ids))
    marked = []
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            still = Message.objects.filter(pk=pk, status=Message.Status.STREAMING)
            if cutoff is not None:
                still = still.filter(updated_at__lt=cutoff)
            if not still.update(
                status=Message.Status.INTERRUPTED, error=INTERRUPTED, updated_at=timezone.now()
            ):
                continue  # touched meanwhile by its live process, or marked by another sweep
            message = Message.objects.select_related("conversation").get(pk=pk)
            _interrupted_usage_record(message)
        marked.append(message)
    return marked


INTERRUPTED = "The server stopped while this answer was being written."


def _interrupted_usage_record(message: Message) -> None:
    """The estimated usage row of an answer whose process died before its final save."""
    conversation = message.conversation
    try:
        request = chat_request_build(message_id=message.pk)
        provider, prompt = request.provider.name, request.prompt_text
        model = message.model or request.model or request.provider.default_model
    except ModelNotAllowed:  # its provider was withdrawn since: still accounted for
        provider, prompt, model = conversation.provider, "", message.model
    counts = usage_estimate(
        prompt_text=prompt, completion_text=message.reasoning + message.content, model=model
    )
    usage_record(
        request_id=interrupted_request_id(message.pk),
        user_id=conversation.user_id,
        conversation_id=conversation.pk,
        message_id=message.pk,
        purpose=Usage.Purpose.ANSWER,
        provider=provider,
        model=model,
        status=Message.Status.INTERRUPTED,
        counts=counts,
        latency_ms=max(0, round((message.updated_at - message.created_at).total_seconds() * 1000)),
    )
