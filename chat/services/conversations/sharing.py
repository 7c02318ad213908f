"""Share links: a snapshot of the branch a person looks at, behind an unguessable token,
readable by people signed in here (or by anyone, where the site and the owner allow it),
revocable at once, and continued by a reader as a conversation of their own."""

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from chat.models import Attachment, Conversation, Message, Share, User
from chat.selectors import conversation_branch, conversation_get
from chat.services.conversations.titles import TITLE_UNTITLED
from chat.services.usage.limits import site_settings


class ShareRefused(Exception):
    """What the person asked for cannot be shared; the message says why."""


def share_create(
    *, user: User, conversation_id: int, include_images: bool = False, public: bool = False
) -> Share:
    """A link to the conversation's selected branch as it is now. Raises
    Conversation.DoesNotExist for another user's conversation, ShareRefused for an empty
    one or a public link the site does not allow."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    if public and not site_settings().public_shares:
        raise ShareRefused(
            gettext("This site does not allow links for anyone: only for people signed in.")
        )
    said = [
        m
        for m in conversation_branch(conversation=conversation)
        if m.role in (Message.Role.USER, Message.Role.ASSISTANT)
        and m.status != Message.Status.STREAMING
        and m.content
    ]
    if not said:
        raise ShareRefused(gettext("There is nothing to share yet."))
    images: dict[int, list[int]] = {}
    if include_images:
        for message_id, attachment_id in Attachment.objects.filter(
            message__in=[m.pk for m in said], user=user
        ).values_list("message_id", "pk"):
            images.setdefault(message_id, []).append(attachment_id)
    return Share.objects.create(
        user=user,
        conversation=conversation,
        token=secrets.token_urlsafe(32),
        title=conversation.title or TITLE_UNTITLED,
        messages=[
            {"role": m.role, "content": m.content, "attachments": images.get(m.pk, [])}
            for m in said
        ],
        public=public,
    )


def share_revoke(*, user: User, share_id: int) -> None:
    """The link stops working now. Raises Share.DoesNotExist for another user's share."""
    share = Share.objects.get(pk=share_id, user=user)
    if share.revoked_at is None:
        Share.objects.filter(pk=share.pk).update(revoked_at=timezone.now())


def share_open(*, token: str) -> Share:
    """The share this token opens; Share.DoesNotExist for a wrong or revoked token."""
    return Share.objects.get(token=token, revoked_at__isnull=True)


def share_is_public(share: Share) -> bool:
    """Anyone may read it: its owner chose so, and the site allows it (still)."""
    return share.public and site_settings().public_shares


def share_image(*, share: Share, attachment_id: int) -> Attachment:
    """An image the owner chose to share with it; Attachment.DoesNotExist otherwise."""
    chosen = {i for m in share.messages for i in m.get("attachments", [])}
    if attachment_id not in chosen:
        raise Attachment.DoesNotExist
    return Attachment.objects.get(pk=attachment_id, user_id=share.user_id)


def share_continue(*, user: User, share: Share) -> Conversation:
    """The shared branch as a new conversation of the reader's, to go on with: its
    messages copied in order, and the images shared with it."""
    with transaction.atomic():
        conversation = Conversation.objects.create(user=user, title=share.title)
        parent: Message | None = None
        for said in share.messages:
            parent = Message.objects.create(
                conversation=conversation,
                parent=parent,
                role=said["role"],
                content=said["content"],
                status=Message.Status.COMPLETE,
            )
            _images_copy(share, said.get("attachments", []), user, parent)
        conversation.current_leaf = parent
        conversation.save(update_fields=["current_leaf", "updated_at"])
    return conversation


def _images_copy(share: Share, ids: list[Any], user: User, message: Message) -> None:
    for image in Attachment.objects.filter(pk__in=ids, user_id=share.user_id):
        image.pk = None
        image.user = user
        image.message = message
        image.save()
