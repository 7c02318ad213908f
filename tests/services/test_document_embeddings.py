"""With an embeddings model chosen by the admin, a document's passages get vectors from the
provider's /embeddings endpoint when it is brought, and a question that does not fit whole
finds its passages by meaning as well as by words. Every request is a ledger row; a
failure loses nothing, and passages are found by their words."""

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async

from chat.crypto import secret_encrypt
from chat.documents.extraction import Extracted, Unit
from chat.documents.sniff import DocumentKind
from chat.models import Document, Passage, Provider, SiteSettings, Usage, UserLimits
from chat.selectors import passages_by_meaning
from chat.services.documents.context import _fused
from chat.services.documents.embeddings import BATCH, document_embed, embedder_get
from chat.services.documents.library import document_save
from chat.services.usage.ledger import UsageCounts, usage_record
from chat.services.usage.limits import site_settings_forget
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "Zebras live in herds on the African savanna.",
    "The automobile insurance covers theft and fire.",
    "Penguins cannot fly but swim very well.",
]


def _embeddings_on(model: str = "fake-embedding") -> None:
    SiteSettings.objects.update_or_create(pk=1, defaults={"embeddings_model": model})
    site_settings_forget()


def _save(user, pages=PAGES) -> Document:
    units = [Unit("page", n, str(n), text) for n, text in enumerate(pages, start=1)]
    extracted = Extracted(DocumentKind.PDF, units)
    return document_save(user=user, name="policy.pdf", data=b"%PDF-", extracted=extracted)


async def _brought(user, pages=PAGES) -> tuple[Document, bool]:
    document = await sync_to_async(_save)(user, pages)
    embedded = await document_embed(user=user, document_id=document.pk)
    return await Document.objects.aget(pk=document.pk), embedded


def _embedding_rows() -> list[tuple[str, int, int | None]]:
    rows = Usage.objects.filter(purpose="embedding").order_by("id")
    return list(rows.values_list("status", "prompt_tokens", "conversation_id"))


async def test_each_passage_of_a_brought_document_gets_a_vector_a_batch_at_a_time(upstream, alice):
    await sync_to_async(_embeddings_on)()
    pages = [f"Page {n} talks about topic {n}." for n in range(BATCH + 6)]

    document, embedded = await _brought(alice, pages)

    assert embedded
    assert document.embedding_model == "fake-embedding"
    vectors = [v async for v in Passage.objects.values_list("embedding", flat=True)]
    assert len(vectors) == BATCH + 6
    assert all(len(v) == 256 * 4 for v in vectors)  # float32, the fake's 256 dimensions
    assert upstream.embeddings_requests() == [BATCH, 6]
    rows = await sync_to_async(_embedding_rows)()
    words = [sum(len(p.split()) for p in pages[:BATCH]), sum(len(p.split()) for p in pages[BATCH:])]
    assert rows == [("complete", words[0], None), ("complete", words[1], None)]


async def test_with_embeddings_off_nothing_is_asked_and_the_document_is_searched_by_words(
    upstream, alice
):
    document, embedded = await _brought(alice)

    assert not embedded
    assert document.embedding_model == ""
    assert upstream.embeddings_requests() == []
    assert await Usage.objects.acount() == 0


async def test_a_failed_request_leaves_no_vectors_a_ledger_row_and_a_log_line(
    upstream, alice, caplog
):
    await sync_to_async(_embeddings_on)()
    upstream.embeddings_fail(1, status=503)

    with caplog.at_level(logging.WARNING, logger="chat.services.documents.embeddings"):
        document, embedded = await _brought(alice)

    assert not embedded
    assert document.embedding_model == ""
    assert not await Passage.objects.filter(embedding__isnull=False).aexists()
    assert await sync_to_async(_embedding_rows)() == [("error", 0, None)]
    assert "passages are ranked by their words" in caplog.text
    assert await Passage.objects.filter(document=document).acount() == 3  # its text is kept


async def test_a_user_whose_budget_is_spent_gets_no_vectors(upstream, alice):
    await sync_to_async(_embeddings_on)()
    await UserLimits.objects.acreate(user=alice, monthly_tokens=10)
    await sync_to_async(usage_record)(
        user_id=alice.pk,
        conversation_id=None,
        message_id=None,
        purpose="answer",
        provider="fake",
        model="m",
        status="complete",
        counts=UsageCounts(prompt_tokens=20),
    )

    _, embedded = await _brought(alice)

    assert not embedded
    assert upstream.embeddings_requests() == []


async def _asked(user, content: str, document: Document) -> tuple[dict, list[dict]]:
    ws = await connect(user)
    await ws.send_json_to({"type": "send", "content": content, "document_ids": [document.pk]})
    frames = await receive_until(ws, "done")
    await ws.disconnect()
    return frames[-1], frames


async def test_a_question_finds_by_meaning_the_page_its_words_miss(upstream, alice, settings):
    settings.CHAT_DOCUMENT_CONTEXT_TOKENS = 5
    settings.CHAT_DOCUMENT_PASSAGES = 1
    await sync_to_async(_embeddings_on)()
    document, _ = await _brought(alice)
    upstream.plan(tokens=1)

    done, _ = await _asked(alice, "Is my car protected?", document)

    question = upstream.log()[-1]["body"]["messages"][-1]["content"]
    assert done["status"] == "complete"
    assert PAGES[1] in question  # "automobile": the car, by meaning
    assert PAGES[0] not in question
    rows = await sync_to_async(_embedding_rows)()
    assert rows[-1][0] == "complete"
    assert rows[-1][2] is not None  # the question's row is on its conversation


async def test_without_embeddings_the_same_question_gets_the_documents_opening(
    upstream, alice, settings
):
    settings.CHAT_DOCUMENT_CONTEXT_TOKENS = 5
    settings.CHAT_DOCUMENT_PASSAGES = 1
    document, _ = await _brought(alice)
    upstream.plan(tokens=1)

    await _asked(alice, "Is my car protected?", document)

    question = upstream.log()[-1]["body"]["messages"][-1]["content"]
    assert PAGES[0] in question
    assert PAGES[1] not in question


async def test_when_the_questions_vector_fails_its_words_still_find_the_page(
    upstream, alice, settings
):
    settings.CHAT_DOCUMENT_CONTEXT_TOKENS = 5
    settings.CHAT_DOCUMENT_PASSAGES = 1
    await sync_to_async(_embeddings_on)()
    document, _ = await _brought(alice)
    upstream.embeddings_fail(1)
    upstream.plan(tokens=1)

    done, _ = await _asked(alice, "Do penguins fly?", document)

    question = upstream.log()[-1]["body"]["messages"][-1]["content"]
    assert done["status"] == "complete"
    assert PAGES[2] in question
    assert (await sync_to_async(_embedding_rows)())[-1][0] == "error"


async def test_a_document_that_fits_whole_asks_for_no_question_vector(upstream, alice):
    await sync_to_async(_embeddings_on)()
    document, _ = await _brought(alice)
    asked_before = len(upstream.embeddings_requests())
    upstream.plan(tokens=1)

    await _asked(alice, "Is my car protected?", document)

    assert len(upstream.embeddings_requests()) == asked_before
    assert all(page in upstream.log()[-1]["body"]["messages"][-1]["content"] for page in PAGES)


async def test_another_users_passages_are_never_near(upstream, alice, bob):
    await sync_to_async(_embeddings_on)()
    document, _ = await _brought(alice)
    vector = await Passage.objects.values_list("embedding", flat=True).afirst()

    def near(user) -> list[int]:
        return passages_by_meaning(
            user_id=user.pk, document_ids=[document.pk], vector=vector, model="fake-embedding"
        )

    assert await sync_to_async(near)(alice)
    assert await sync_to_async(near)(bob) == []


async def test_vectors_of_another_model_are_not_compared(upstream, alice):
    await sync_to_async(_embeddings_on)()
    document, _ = await _brought(alice)
    vector = await Passage.objects.values_list("embedding", flat=True).afirst()

    found = await sync_to_async(passages_by_meaning)(
        user_id=alice.pk, document_ids=[document.pk], vector=vector, model="another-model"
    )

    assert found == []


def test_a_passage_both_rankings_place_well_beats_one_either_places_first_alone(alice):
    a, b, c = (p.pk for p in _save(alice).passages.all())

    fused = _fused([a, b], [c, b], limit=1)

    assert [p.pk for p in fused] == [b]


async def _answer_begun(ws) -> dict:
    while True:
        frame = await ws.receive_json_from(timeout=10)
        if frame["type"] == "message" and frame["message"]["role"] == "assistant":
            return frame["message"]


async def test_a_stop_while_the_questions_vector_is_asked_stops_the_answer_and_keeps_its_row(
    upstream, alice, settings
):
    settings.CHAT_DOCUMENT_CONTEXT_TOKENS = 5
    await sync_to_async(_embeddings_on)()
    document, _ = await _brought(alice)
    asked_before = len(upstream.embeddings_requests())
    upstream.embeddings_slow(1, seconds=5)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "My car?", "document_ids": [document.pk]})
    answer = await _answer_begun(ws)
    # The question's vector is being asked for (the fake is another process: polled).
    while len(upstream.embeddings_requests()) == asked_before:  # noqa: ASYNC110
        await asyncio.sleep(0.02)

    await ws.send_json_to({"type": "stop", "message_id": answer["id"]})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    assert upstream.log() == []  # the question never went upstream
    row = await Usage.objects.filter(purpose="embedding").alatest("id")
    assert (row.status, row.estimated, row.conversation_id) == (
        "stopped",
        True,
        answer["conversation_id"],
    )
    assert row.prompt_tokens > 0


def test_an_embeddings_provider_whose_key_cannot_be_read_turns_embeddings_off(alice, caplog):
    Provider.objects.create(
        slug="broken",
        name="Broken",
        base_url="https://e.example/v1",
        enabled=True,
        api_key_encrypted=secret_encrypt("k")[:-4] + "AAAA",
    )
    SiteSettings.objects.update_or_create(
        pk=1, defaults={"embeddings_model": "e", "embeddings_provider": "broken"}
    )
    site_settings_forget()

    with caplog.at_level(logging.WARNING):
        assert embedder_get() is None

    assert "its key cannot be read" in caplog.text
