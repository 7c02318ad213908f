"""Images attached to messages: checked to be what they claim, stored, bound, sent upstream.

An image is uploaded on its own first (so a refusal costs the user nothing they typed),
then bound to the user's message when it is sent, in the same transaction. Upstream it
goes as an `image_url` content part holding a data: URL of the stored bytes.
"""

import base64
import io
import warnings
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext
from PIL import Image, UnidentifiedImageError

from chat import texts
from chat.models import Attachment, Message, User

# Pillow's format names for the types a site may allow, and their media types.
_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "gif": ("GIF", "image/gif"),
    "webp": ("WEBP", "image/webp"),
}


# A longer file name is cut to fit its column.
_NAME_MAX_CHARS = Attachment._meta.get_field("name").max_length


class AttachmentInvalid(Exception):
    """The file is too large, not an image, or not of an allowed type; says which."""


class AttachmentNotFound(Exception):
    """An id that is not one of the user's images waiting to be sent."""


def allowed_types() -> dict[str, str]:
    """Pillow format -> media type, for the types this site allows."""
    return dict(_FORMATS[name] for name in settings.CHAT_IMAGE_TYPES if name in _FORMATS)


def image_too_large(size: int) -> str:
    """Why an image of `size` bytes is refused (the page says the same before sending)."""
    limit = settings.CHAT_IMAGE_MAX_BYTES
    # Translated, then filled: the sentence starts lowercase (the page puts a file's name
    # before it), so it is capitalised here, where it starts the sentence.
    text = texts.IMAGE_TOO_LARGE.format(size=_megabytes(size), limit=_megabytes(limit))
    return text[0].upper() + text[1:]


def attachment_create(*, user: User, data: bytes, name: str = "") -> Attachment:
    """Check the bytes and store them. Raises AttachmentInvalid with a message for people."""
    limit = settings.CHAT_IMAGE_MAX_BYTES
    if len(data) > limit:
        raise AttachmentInvalid(image_too_large(len(data)))
    allowed = allowed_types()
    names = ", ".join(sorted(fmt.lower() for fmt in allowed))
    try:
        with warnings.catch_warnings():
            # A decompression bomb warns before it raises: either way, no.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format or ""
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentInvalid(
            gettext("That file is not an image chatsite accepts (%(types)s).") % {"types": names}
        ) from None
    except Exception:
        raise AttachmentInvalid(gettext("That image is damaged and cannot be read.")) from None
    if image_format not in allowed:
        raise AttachmentInvalid(
            gettext("%(type)s images are not accepted; send %(types)s.")
            % {"type": image_format or "?", "types": names}
        )
    return Attachment.objects.create(
        user=user,
        content_type=allowed[image_format],
        name=name[:_NAME_MAX_CHARS],
        size=len(data),
        width=width,
        height=height,
        data=data,
    )


def attachments_bind(
    *, user: User, message: Message, attachment_ids: Iterable[int]
) -> list[Attachment]:
    """Bind the user's waiting images to the message just saved (in its transaction).

    Raises AttachmentNotFound when any id is another user's, already sent, or missing.
    """
    ids = list(dict.fromkeys(attachment_ids))
    if not ids:
        return []
    if len(ids) > settings.CHAT_IMAGES_PER_MESSAGE:
        raise AttachmentInvalid(
            gettext("At most %(limit)s images per message, not %(count)s.")
            % {
                "limit": texts.number(settings.CHAT_IMAGES_PER_MESSAGE),
                "count": texts.number(len(ids)),
            }
        )
    waiting = list(
        Attachment.objects.select_for_update().filter(user=user, message__isnull=True, pk__in=ids)
    )
    if len(waiting) != len(ids):
        raise AttachmentNotFound
    Attachment.objects.filter(pk__in=ids).update(message=message)
    by_id = {a.pk: a for a in waiting}
    return [by_id[i] for i in ids]


def attachments_copy(*, source: Message, target: Message) -> None:
    """An edited question keeps its images: the new version gets copies of them."""
    for attachment in Attachment.objects.filter(message=source).order_by("created_at", "id"):
        attachment.pk = None
        attachment._state.adding = True
        attachment.message = target
        attachment.save()


def attachments_of(message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
    """The images of each of the messages, in the order they were attached."""
    found: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(message_id__in=list(message_ids)).order_by(
        "created_at", "id"
    ):
        assert attachment.message_id is not None
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def attachment_summary(attachment: Attachment) -> dict[str, Any]:
    """What a page needs to show a thumbnail (never the bytes themselves)."""
    return {
        "id": attachment.pk,
        "url": reverse("chat:attachment", args=[attachment.pk]),
        "content_type": attachment.content_type,
        "name": attachment.name,
        "width": attachment.width,
        "height": attachment.height,
    }


def user_content(text: str, attachments: list[Attachment]) -> str | list[dict[str, Any]]:
    """A user message's content upstream: plain text, or text and image parts."""
    if not attachments:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for attachment in attachments:
        encoded = base64.b64encode(bytes(attachment.data)).decode("ascii")
        url = f"data:{attachment.content_type};base64,{encoded}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def _megabytes(size: int) -> str:
    return number_format(size / (1024 * 1024), decimal_pos=1)
