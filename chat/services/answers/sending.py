"""Writing messages: a send saves the user's words before anything goes upstream."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from chat.models import Attachment, Conversation, Document, Message, User
from chat.selectors import (
    HistoryMessage,
    branch_from,
    conversation_get,
    conversation_history,
    conversation_messages_by_id,
)
from chat.services.answers.requests import ChatRequest, chat_request_first, chat_request_of
from chat.services.conversations.attachments import attachments_bind
from chat.services.conversations.lifecycle import (
    GenerationInProgress,
    conversation_create,
    conversation_ensure_idle,
)
from chat.services.conversations.parameters import ConversationSettings, settings_tools_check
from chat.services.conversations.projects import project_get
from chat.services.documents.library import documents_bind
from chat.services.providers import model_choice_check, provider_get
from chat.services.usage.limits import Allowance, limits_check
from chat.upstream.provider import Provider


@dataclass(frozen=True)
class SentMessage:
    conversation: Conversation
    conversation_created: bool
    user_message: Message
    assistant_message: Message
    request: ChatRequest  # what to send upstream for the answer
    attachments: list[Attachment] = field(default_factory=list)  # the question's images
    documents: list[Document] = field(default_factory=list)  # the documents it brought


def message_send(
    *,
    user: User,
    conversation_id: int | None,
    content: str,
    provider: str | None = None,
    model: str | None = None,
    settings: ConversationSettings | None = None,
    attachment_ids: Sequence[int] = (),
    document_ids: Sequence[int] = (),
    project_id: int | None = None,
) -> SentMessage:
    """Save the user's message and an empty streaming answer to it, together.

    `model` (with its `provider`) switches the conversation to that model first.
    `settings` (validated) are those of a new conversation, chosen before its first message.
    Raises Conversation.DoesNotExist when the conversation is not the user's,
    GenerationInProgress when an answer is still streaming in it, LimitReached or
    AccountInactive when the user may not send now, ModelNotAllowed for a model not
    offered to them; then nothing is saved.
    `attachment_ids` are the user's uploaded images, bound to the question (else
    AttachmentNotFound, and nothing is saved); `document_ids` documents of the user's
    library it brings (else DocumentNotFound, and nothing is saved).
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
            document_ids=document_ids,
            project_id=project_id,
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
    document_ids: Sequence[int],
    project_id: int | None,
) -> SentMessage:
    # Checked in the transaction that saves the answer, under a lock on the user's row:
    # two sends of one user on two processes cannot both take the last place.
    allowance = limits_check(user, lock=True)
    if conversation_id is None:
        target = _new_conversation(
            user=user,
            first_message=content,
            provider=provider,
            model=model,
            settings=settings,
            allowance=allowance,
            project_id=project_id,
        )
    else:
        target = _follow_up(
            user=user,
            conversation_id=conversation_id,
            provider=provider,
            model=model,
            allowance=allowance,
        )
    conversation = target.conversation
    user_message = Message.objects.create(
        conversation=conversation,
        parent_id=target.parent_id,
        role=Message.Role.USER,
        content=content,
    )
    attachments = attachments_bind(user=user, message=user_message, attachment_ids=attachment_ids)
    documents = documents_bind(user=user, message=user_message, document_ids=list(document_ids))
    assistant_message = answer_start(
        conversation=conversation,
        question=user_message,
        new_conversation=target.created,
        also_save=target.changed,
    )
    if target.created:
        request = chat_request_first(
            conversation=conversation,
            question=user_message,
            attachments=attachments,
            provider=target.provider,
            documents=documents,
        )
    else:
        # The branch the send read, and the question: nothing is read again.
        user_message.has_attachments = bool(attachments)  # type: ignore[attr-defined]
        user_message.has_documents = bool(documents)  # type: ignore[attr-defined]
        request = chat_request_of(
            conversation=conversation,
            branch=[*target.branch, user_message],
            provider=target.provider,
        )
    return SentMessage(
        conversation,
        target.created,
        user_message,
        assistant_message,
        request,
        attachments,
        documents,
    )


@dataclass(frozen=True)
class _Target:
    """Where a send goes: its conversation, the provider resolved for it, and the message
    the question follows."""

    conversation: Conversation
    created: bool
    provider: Provider
    parent_id: int | None = None
    changed: list[str] = field(default_factory=list)  # conversation fields to save with it
    branch: list[HistoryMessage] = field(default_factory=list)  # what the question follows


def _new_conversation(
    *,
    user: User,
    first_message: str,
    provider: str,
    model: str | None,
    settings: ConversationSettings | None,
    allowance: Allowance,
    project_id: int | None = None,
) -> _Target:
    # The common case under load: it costs three inserts and nothing else; every query
    # saved here shortens the queue in front of the first token. No model picked: the
    # site's default, which must be one this user may use.
    # Raises Project.DoesNotExist for another user's project: nothing is saved. Its model
    # is the new conversation's when the page named none.
    project = project_get(user=user, project_id=project_id) if project_id else None
    if model is None and project and project.model:
        provider, model = project.provider, project.model
    chosen = _provider_checked(
        slug=provider if model is not None else "", model=model or "", allowance=allowance
    )
    if settings is not None:
        settings_tools_check(user=user, settings=settings)
    conversation = conversation_create(
        user=user,
        first_message=first_message,
        provider=provider,
        model=model or "",
        settings=settings,
        project=project,
    )
    return _Target(conversation, created=True, provider=chosen)


def _follow_up(
    *, user: User, conversation_id: int, provider: str, model: str | None, allowance: Allowance
) -> _Target:
    if model is not None:  # a model picked in the page, checked before anything is read
        chosen = _provider_checked(slug=provider, model=model, allowance=allowance)
        conversation, messages = _idle_conversation(user=user, conversation_id=conversation_id)
        conversation.provider, conversation.model = provider, model
        changed = ["provider", "model"]
    else:  # the conversation's own model, which may have been withdrawn since
        conversation, messages = _idle_conversation(user=user, conversation_id=conversation_id)
        chosen = _provider_checked(
            slug=conversation.provider, model=conversation.model, allowance=allowance
        )
        changed = []
    # A follow-up continues the branch the user is looking at.
    branch = branch_from(messages, conversation.current_leaf_id)
    parent_id = branch[-1].pk if branch else None
    return _Target(
        conversation,
        created=False,
        provider=chosen,
        parent_id=parent_id,
        changed=changed,
        branch=branch,
    )


def _idle_conversation(
    *, user: User, conversation_id: int
) -> tuple[Conversation, dict[int, HistoryMessage]]:
    """The conversation and its messages, read once: the idle check, the branch and the
    request all come from them."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    history = conversation_history(conversation_id=conversation.pk)
    if any(m.status == Message.Status.STREAMING for m in history.values()):
        # Rare: an answer streams, or a dead process left it streaming. Whether it is
        # stale is read from the whole rows, and a stale one is swept.
        messages = conversation_messages_by_id(conversation=conversation)
        conversation_ensure_idle(conversation, messages.values())
        # Idle all the same: a stale answer was swept, or its process saved it just
        # now. Read again, so the history has that answer as it is saved.
        history = conversation_history(conversation_id=conversation.pk)
    return conversation, history


def _provider_checked(*, slug: str, model: str, allowance: Allowance) -> Provider:
    """The provider the answer goes to, resolved once per send (its row read, its key
    decrypted), with the model checked against what the user may use."""
    chosen = provider_get(slug)
    model_choice_check(provider=chosen, model=model, allowance=allowance)
    return chosen


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
