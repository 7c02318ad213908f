"""A user's documents: saved with their passages (indexed for search by the database:
migration 0011), deleted with them."""

from django.db import transaction

from chat.documents.extraction import Extracted
from chat.documents.passages import passages_split
from chat.models import Document, Passage, User
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
        data=data,
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
    Document.objects.get(pk=document_id, user=user).delete()
