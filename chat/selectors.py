"""Reads, each scoped to the user who owns the object: another user's id is simply not found."""

from collections.abc import Iterable

from django.db.models import QuerySet

from chat.models import Conversation, Message, Usage, User


def conversation_list(*, user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user).order_by("-updated_at", "-id")


def conversation_get(*, user: User, conversation_id: int) -> Conversation:
    """Raises Conversation.DoesNotExist for a missing id and for another user's alike."""
    return Conversation.objects.get(pk=conversation_id, user=user)


def message_get(*, user: User, message_id: int) -> Message:
    """Raises Message.DoesNotExist for a missing id and for another user's alike."""
    return Message.objects.select_related("conversation").get(
        pk=message_id, conversation__user=user
    )


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    return list(conversation.messages.order_by("created_at", "id"))


def message_lineage(*, message: Message) -> list[Message]:
    """The message and its ancestors, oldest first: the branch sent upstream."""
    by_id = {m.pk: m for m in message.conversation.messages.all()}
    lineage: list[Message] = []
    current: Message | None = by_id.get(message.pk, message)
    while current is not None:
        lineage.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    lineage.reverse()
    return lineage


def message_usage(*, message: Message) -> Usage | None:
    return Usage.objects.filter(message=message).order_by("-created_at", "-id").first()


def answers_streaming(*, conversation_id: int) -> list[int]:
    """Ids of the conversation's answers still being written."""
    return list(
        Message.objects.filter(
            conversation_id=conversation_id, status=Message.Status.STREAMING
        ).values_list("pk", flat=True)
    )


def answers_ended(
    *, conversation_id: int, message_ids: Iterable[int]
) -> list[tuple[Message, Usage | None]]:
    """Those of the given answers of the conversation that are no longer being written,
    each with its usage row."""
    ended = Message.objects.filter(conversation_id=conversation_id, pk__in=message_ids).exclude(
        status=Message.Status.STREAMING
    )
    return [(message, message_usage(message=message)) for message in ended]
