"""Documents' passages and questions as vectors, from the provider's OpenAI-compatible
/embeddings endpoint, when the admin chose an embeddings model (SiteSettings). Passages
are then ranked by meaning beside their words (selectors.passages_by_meaning, fused in
chat/services/documents/context.py).

Every request is a ledger row (purpose "embedding"), however it ended. A failure loses
nothing: the document keeps its text and its full-text index, a question is answered
from the passages its words find, and the log says why.
"""

import asyncio
import importlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from chat.crypto import SecretUnreadable
from chat.models import Document, Message, Passage, Usage, User
from chat.services.providers import ModelNotAllowed, provider_get
from chat.services.usage.ledger import UsageCounts, tokens_estimate, usage_record
from chat.services.usage.limits import LimitReached, budget_check, site_settings
from chat.upstream.client import UpstreamClient
from chat.upstream.errors import UpstreamError
from chat.upstream.provider import Provider

logger = logging.getLogger(__name__)

# Inputs per /embeddings request: OpenAI takes up to 2,048, smaller servers fewer.
BATCH = 64


@dataclass(frozen=True)
class Embedder:
    provider: Provider
    model: str


def embedder_get() -> Embedder | None:
    """The provider and model the admin chose for embeddings; None: passages are ranked
    by their words only."""
    row = site_settings()
    if not row.embeddings_model:
        return None
    try:
        provider = provider_get(row.embeddings_provider)
    except (ModelNotAllowed, SecretUnreadable):
        # A send or an upload must not fail for it: they go on without vectors.
        logger.warning(
            "embeddings: the provider %r is not available or its key cannot be read; "
            "passages are ranked by their words",
            row.embeddings_provider,
        )
        return None
    return Embedder(provider=provider, model=row.embeddings_model)


async def _embedded(
    embedder: Embedder, inputs: list[str], *, user_id: int, conversation_id: int | None
) -> list[bytes | None] | None:
    """One /embeddings request and its ledger row, however it ended; None when it failed
    (logged). Cancelled (Stop, a shutdown, an upload whose browser left), the row is
    still written, its tokens estimated: the provider may have done the work."""
    started = time.monotonic()
    estimate = UsageCounts(
        prompt_tokens=sum(tokens_estimate(text, embedder.model) for text in inputs),
        estimated=True,
    )

    def record(status: str, counts: UsageCounts) -> Any:
        return sync_to_async(usage_record)(
            user_id=user_id,
            conversation_id=conversation_id,
            message_id=None,
            purpose=Usage.Purpose.EMBEDDING,
            provider=embedder.provider.name,
            model=embedder.model,
            status=status,
            counts=counts,
            latency_ms=round((time.monotonic() - started) * 1000),
        )

    try:
        vectors, tokens = await UpstreamClient(embedder.provider).embeddings(embedder.model, inputs)
        # numpy, imported in a thread the first time (a load that must not block the
        # loop), and the vectors packed there too.
        module = await asyncio.to_thread(importlib.import_module, "chat.documents.vectors")
        packed = await asyncio.to_thread(lambda: [module.vector_pack(v) for v in vectors])
    except asyncio.CancelledError:
        await asyncio.shield(record(Message.Status.STOPPED, estimate))
        raise
    except UpstreamError as exc:
        logger.warning("embeddings: %s (%s); passages are ranked by their words", exc, exc.kind)
        await record(Message.Status.ERROR, UsageCounts())
        return None
    # No usage in the answer: estimated, and flagged as such, as for answers.
    await record(Message.Status.COMPLETE, UsageCounts(prompt_tokens=tokens) if tokens else estimate)
    return packed


async def document_embed(*, user: User, document_id: int) -> bool:
    """Give the user's document's passages their vectors, BATCH at a time; all or none
    (a document is ranked by one model, whole). False when embeddings are off, the
    user's budget is spent, or a request failed: the document is searched by its words."""
    embedder = await sync_to_async(embedder_get)()
    if embedder is None:
        return False
    try:
        await sync_to_async(budget_check)(user)
    except LimitReached:
        logger.info(
            "embeddings: user %s's budget is spent; document %s not embedded", user.pk, document_id
        )
        return False
    passages = await sync_to_async(_passages_text)(user.pk, document_id)
    vectors: dict[int, bytes | None] = {}
    for start in range(0, len(passages), BATCH):
        batch = passages[start : start + BATCH]
        packed = await _embedded(
            embedder, [text for _, text in batch], user_id=user.pk, conversation_id=None
        )
        if packed is None:
            return False
        vectors.update(zip((pk for pk, _ in batch), packed, strict=True))
    await sync_to_async(_vectors_save)(user.pk, document_id, embedder.model, vectors)
    return True


def _passages_text(user_id: int, document_id: int) -> list[tuple[int, str]]:
    return list(
        Passage.objects.filter(document_id=document_id, document__user_id=user_id)
        .order_by("n")
        .values_list("pk", "text")
    )


def _vectors_save(
    user_id: int, document_id: int, model: str, vectors: dict[int, bytes | None]
) -> None:
    with transaction.atomic():
        rows = [Passage(pk=pk, embedding=vector) for pk, vector in vectors.items()]
        Passage.objects.bulk_update(rows, ["embedding"], batch_size=500)
        Document.objects.filter(pk=document_id, user_id=user_id).update(embedding_model=model)


async def question_vector(
    embedder: Embedder, *, user_id: int, conversation_id: int, question: str
) -> bytes | None:
    """The question as a vector (its ledger row on the conversation); None when the
    request failed or the question has no text."""
    if not question.strip():
        return None
    packed = await _embedded(embedder, [question], user_id=user_id, conversation_id=conversation_id)
    return packed[0] if packed else None
