"""A user's documents: saved with their passages (indexed for search by the database:
migration 0011), deleted with them."""

from typing import Any

from django.db import transaction
from django.urls import reverse

from chat.documents.extraction import Extracted
from chat.documents.passages import passages_split
from chat.documents.sniff import DocumentKind
from chat.models import Document, Message, Passage, User
from chat.services.usage.ledger import tokens_estimate

# Passages are inserted in batches of this many rows (a 2,000-page PDF has thousands).
_BATCH = 500


@transaction.atomic
def document_save(*, user: User, name: str, data: bytes, extracted: Extracted) -> Document:
    """The document in the user's library, with its passages; its text was extracted and
    checked before (chat/documents/extraction.py)."""
    text = "\n\n".join(u.text for u in extracted.units)
    document = Document.objects.create(
        user=user,
        name=name[:200],
        kind=extracted.kind.value,
        size=len(data),
        pages=extracted.pages,
        chars=extracted.chars,
        tokens=tokens_estimate(text),
        # Only a PDF's bytes are ever sent (as a file part, to a model that reads PDFs).
        data=data if extracted.kind == DocumentKind.PDF else b"",
    )
    Passage.objects.bulk_create(
        [
            Passage(
                document=document, n=n, unit=p.unit, unit_n=p.unit_n, label=p.label, text=p.text
            )
            for n, p in enumerate(passages_split(extracted.units))
        ],
        batch_size=_BATCH,
    )
    return document


def document_delete(*, user: User, document_id: int) -> None:
    """Delete the user's document, its passages and their index entries (the database's
    triggers or index follow the rows). Raises Document.DoesNotExist for another user's
    document exactly as for a missing one."""
    Document.objects.defer("data").get(pk=document_id, user=user).delete()


class DocumentNotFound(Exception):
    """A document id that is not in the user's library (another user's, or missing)."""


def documents_bind(*, user: User, message: Message, document_ids: list[int]) -> list[Document]:
    """The user's documents, brought by the question just saved (in its transaction).

    Raises DocumentNotFound when any id is not in the user's library.
    """
    ids = list(dict.fromkeys(document_ids))
    if not ids:
        return []
    found = {d.pk: d for d in Document.objects.defer("data").filter(user=user, pk__in=ids)}
    if len(found) != len(ids):
        raise DocumentNotFound
    through = Message.documents.through
    through.objects.bulk_create([through(message_id=message.pk, document_id=i) for i in ids])
    return [found[i] for i in ids]


def documents_copy(*, source: Message, target: Message) -> None:
    """An edited question keeps the documents it brought."""
    through = Message.documents.through
    ids = through.objects.filter(message_id=source.pk).values_list("document_id", flat=True)
    through.objects.bulk_create([through(message_id=target.pk, document_id=i) for i in ids])


def document_summary(document: Document) -> dict[str, Any]:
    """What a page needs for a document's chip and preview (never its bytes)."""
    return {
        "id": document.pk,
        "url": reverse("chat:document", args=[document.pk]),
        "delete_url": reverse("chat:document_delete", args=[document.pk]),
        "name": document.name,
        "kind": document.kind,
        "pages": document.pages,
        "size": document.size,
        "tokens": document.tokens,
        "created_at": document.created_at.isoformat(),
    }
