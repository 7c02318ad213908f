from chat.models import Conversation, User

TITLE_LENGTH = 60


def conversation_title_from(text: str) -> str:
    """A first title from the opening message: its first words, cut at a word boundary."""
    words = " ".join(text.split())
    if len(words) <= TITLE_LENGTH:
        return words or "New conversation"
    cut = words[:TITLE_LENGTH].rsplit(" ", 1)[0] or words[:TITLE_LENGTH]
    return cut + "…"


def conversation_create(
    *, user: User, first_message: str, provider: str = "", model: str = ""
) -> Conversation:
    return Conversation.objects.create(
        user=user, title=conversation_title_from(first_message), provider=provider, model=model
    )
