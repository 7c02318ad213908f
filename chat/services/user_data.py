"""A user's own data, all at once: what they have here, and deleting it (their account,
API keys and usage ledger stay; the ledger never held message text)."""

from dataclasses import dataclass

from django.db import transaction

from chat.models import Attachment, Conversation, Document, Message, Preset, Project, User
from chat.services.conversations.lifecycle import GenerationInProgress


@dataclass(frozen=True)
class UserData:
    conversations: int
    documents: int
    images: int


def user_data_count(*, user: User) -> UserData:
    return UserData(
        conversations=Conversation.objects.filter(user=user).count(),
        documents=Document.objects.filter(user=user).count(),
        images=Attachment.objects.filter(user=user).count(),
    )


def user_data_delete(*, user: User) -> UserData:
    """Delete every conversation of the user's (with its messages, images and share
    links), their images not yet sent, their documents' library, their projects and their
    presets. Raises GenerationInProgress while an answer is being written for them: its
    final save would have nothing to belong to."""
    with transaction.atomic():
        # The lock a send takes (limits_check): no answer starts while this runs.
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        mine = Conversation.objects.filter(user=user)
        if Message.objects.filter(conversation__in=mine, status=Message.Status.STREAMING).exists():
            raise GenerationInProgress
        counted = user_data_count(user=user)
        mine.delete()
        Attachment.objects.filter(user=user).delete()
        Document.objects.filter(user=user).defer("data").delete()  # bytes never read
        Project.objects.filter(user=user).delete()
        Preset.objects.filter(user=user).delete()
    return counted
