"""What a user does to a whole conversation: rename it, delete it."""

from chat.models import Conversation, User
from chat.selectors import conversation_get
from chat.services.messages import conversation_ensure_idle

TITLE_MAX_CHARS = Conversation._meta.get_field("title").max_length or 200


class TitleInvalid(Exception):
    """The new name is empty or too long; the message says which."""


def conversation_rename(*, user: User, conversation_id: int, title: str) -> Conversation:
    """Raises Conversation.DoesNotExist for another user's conversation, TitleInvalid for
    a blank or overlong name. A model title never replaces a name given here."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    title = " ".join(str(title).split())
    if not title:
        raise TitleInvalid("The name is empty.")
    if len(title) > TITLE_MAX_CHARS:
        raise TitleInvalid(f"The name is {len(title)} characters; the limit is {TITLE_MAX_CHARS}.")
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_delete(*, user: User, conversation_id: int) -> None:
    """Delete the conversation with its messages; its usage rows stay in the ledger.

    Raises GenerationInProgress while an answer is written in it: its final save and usage
    row would have nothing to belong to. Stop it first.
    """
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    conversation_ensure_idle(conversation)
    conversation.delete()
