from chat.models import Conversation, User
from chat.services.conversation_settings import ConversationSettings

TITLE_LENGTH = 60


def conversation_title_from(text: str) -> str:
    """A first title from the opening message: its first words, cut at a word boundary."""
    words = " ".join(text.split())
    if len(words) <= TITLE_LENGTH:
        return words or "New conversation"
    cut = words[:TITLE_LENGTH].rsplit(" ", 1)[0] or words[:TITLE_LENGTH]
    return cut + "…"


def conversation_create(
    *,
    user: User,
    first_message: str,
    provider: str = "",
    model: str = "",
    settings: ConversationSettings | None = None,
) -> Conversation:
    """A new conversation, with the settings the user chose before its first message."""
    settings = settings or ConversationSettings()
    return Conversation.objects.create(
        user=user,
        title=conversation_title_from(first_message),
        provider=provider,
        model=model,
        system_prompt=settings.system_prompt,
        parameters=settings.parameters or {},
    )
