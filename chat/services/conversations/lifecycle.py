"""A conversation as a whole: created with its first message, renamed, pinned, archived,
deleted; and the rule that nothing changes it while an answer is being written in it."""

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from chat import texts
from chat.models import Conversation, Message, Project, User
from chat.selectors import conversation_get
from chat.services.conversations.parameters import ConversationSettings
from chat.services.conversations.titles import TITLE_MAX_CHARS, conversation_title_from


class GenerationInProgress(Exception):
    """The conversation already has an answer streaming."""


class TitleInvalid(Exception):
    """The new name is empty or too long; the message says which."""


def conversation_create(
    *,
    user: User,
    first_message: str,
    provider: str = "",
    model: str = "",
    settings: ConversationSettings | None = None,
    project: Project | None = None,
) -> Conversation:
    """A new conversation, with the settings the user chose before its first message,
    in the user's `project` if given (checked by the caller)."""
    settings = settings or ConversationSettings()
    return Conversation.objects.create(
        project=project,
        user=user,
        title=conversation_title_from(first_message),
        provider=provider,
        model=model,
        system_prompt=settings.system_prompt,
        parameters=settings.parameters or {},
        tool_ids=list(settings.tools),
    )


def conversation_ensure_idle(
    conversation: Conversation, messages: Iterable[Message] | None = None
) -> None:
    """Raise GenerationInProgress while an answer streams in the conversation.

    With the conversation's `messages` already read (a send has them), nothing is read
    again unless one of them streams: the common case costs no query.
    """
    # Imported here: marking stale streams belongs to the answers, which create
    # conversations through this module.
    from chat.services.answers.interruptions import message_is_stale, streams_interrupt_stale

    if messages is not None:
        streaming = [m for m in messages if m.status == Message.Status.STREAMING]
        if not streaming:
            return
        if not any(message_is_stale(m) for m in streaming):
            raise GenerationInProgress
    streams_interrupt_stale(conversation=conversation)
    if conversation.messages.filter(status=Message.Status.STREAMING).exists():
        raise GenerationInProgress


def conversation_rename(*, user: User, conversation_id: int, title: str) -> Conversation:
    """Raises Conversation.DoesNotExist for another user's conversation, TitleInvalid for
    a blank or overlong name. A model title never replaces a name given here."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    title = " ".join(str(title).split())
    if not title:
        raise TitleInvalid(str(texts.NAME_EMPTY))
    if len(title) > TITLE_MAX_CHARS:
        raise TitleInvalid(
            texts.NAME_TOO_LONG.format(
                length=texts.number(len(title)), limit=texts.number(TITLE_MAX_CHARS)
            )
        )
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_pin(*, user: User, conversation_id: int, pinned: bool) -> bool:
    """Pin the user's conversation to the top of their list, or unpin it; raises
    Conversation.DoesNotExist for another user's. Returns whether it is pinned."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    # An update, not save(): its place among the others (updated_at) stays as it was.
    when = timezone.now() if pinned else None
    Conversation.objects.filter(pk=conversation.pk, user=user).update(pinned_at=when)
    return pinned


def conversation_archive(*, user: User, conversation_id: int, archived: bool) -> bool:
    """Archive the user's conversation out of their list (unpinned), or restore it;
    raises Conversation.DoesNotExist for another user's. Returns whether it is archived."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    changes: dict[str, Any] = {"archived_at": timezone.now() if archived else None}
    if archived:
        changes["pinned_at"] = None
    Conversation.objects.filter(pk=conversation.pk, user=user).update(**changes)
    return archived


def conversation_delete(*, user: User, conversation_id: int) -> None:
    """Delete the conversation with its messages; its usage rows stay in the ledger.

    Raises GenerationInProgress while an answer is written in it: its final save and usage
    row would have nothing to belong to. Stop it first.
    """
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    conversation_ensure_idle(conversation)
    conversation.delete()
