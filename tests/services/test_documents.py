"""A user's library: a document saved with its passages, found by its words only by its
owner, and gone with its passages and their index when deleted."""

import pytest
from django.db import connection

from chat.documents.extraction import Extracted, Unit
from chat.documents.sniff import DocumentKind
from chat.models import Document, Passage
from chat.selectors import passages_search
from chat.services.documents.library import document_delete, document_save

PAGES = [
    "Zebras live in herds on the African savanna.",
    "The contract ends on the last day of March.",
    "Penguins cannot fly but swim very well.",
]


def _save(user, pages=PAGES, name="notes.pdf") -> Document:
    units = [Unit("page", n, str(n), text) for n, text in enumerate(pages, start=1)]
    extracted = Extracted(DocumentKind.PDF, units)
    return document_save(user=user, name=name, data=b"%PDF-", extracted=extracted)


def test_a_saved_document_keeps_its_pages_in_passages(alice):
    document = _save(alice)

    assert (document.pages, document.kind, document.size) == (3, "pdf", 5)
    assert document.tokens > 0
    assert [(p.n, p.unit_n, p.text) for p in document.passages.all()] == [
        (0, 1, PAGES[0]),
        (1, 2, PAGES[1]),
        (2, 3, PAGES[2]),
    ]


def test_a_question_finds_the_page_that_answers_it_first(alice):
    document = _save(alice)

    found = passages_search(
        user_id=alice.pk, document_ids=[document.pk], query="When does the contract end?"
    )

    assert found[0].unit_n == 2
    assert found[0].document == document


def test_words_match_in_other_forms(alice):
    document = _save(alice)

    found = passages_search(user_id=alice.pk, document_ids=[document.pk], query="zebra herd")

    assert [p.unit_n for p in found] == [1]


def test_another_users_document_is_never_searched_even_by_its_id(alice, bob):
    theirs = _save(bob)
    mine = _save(alice, pages=["Nothing about animals here."])

    found = passages_search(
        user_id=alice.pk, document_ids=[theirs.pk, mine.pk], query="zebras penguins"
    )

    assert found == []


def test_a_query_of_symbols_and_quotes_finds_nothing_without_an_error(alice):
    document = _save(alice)

    assert passages_search(user_id=alice.pk, document_ids=[document.pk], query='"(* ) - :') == []
    found = passages_search(user_id=alice.pk, document_ids=[document.pk], query='penguins" OR (x')
    assert [p.unit_n for p in found] == [3]


def test_deleting_a_document_removes_its_passages_and_their_index(alice):
    document = _save(alice)

    document_delete(user=alice, document_id=document.pk)

    assert not Passage.objects.filter(document_id=document.pk).exists()
    assert passages_search(user_id=alice.pk, document_ids=[document.pk], query="zebras") == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM chat_passage_fts WHERE chat_passage_fts MATCH 'zebras'"
            )
            assert cursor.fetchone()[0] == 0


def test_another_users_document_cannot_be_deleted(alice, bob):
    theirs = _save(bob)

    with pytest.raises(Document.DoesNotExist):
        document_delete(user=alice, document_id=theirs.pk)
    assert Document.objects.filter(pk=theirs.pk).exists()


def test_a_search_reads_no_document_bytes(alice, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    document = _save(alice)
    with CaptureQueriesContext(connection) as queries:
        found = passages_search(user_id=alice.pk, document_ids=[document.pk], query="zebras")

    assert [p.unit_n for p in found] == [1]
    assert not any('"data"' in q["sql"] for q in queries.captured_queries)


def test_only_a_change_of_its_text_reindexes_a_passage(alice):
    document = _save(alice)
    passage = document.passages.get(n=2)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'chat_passage_fts_update'")
            assert "AFTER UPDATE OF text ON" in cursor.fetchone()[0]

    Passage.objects.filter(pk=passage.pk).update(embedding=b"\0" * 8)
    Passage.objects.filter(pk=passage.pk).update(text="Otters sleep on the ice.")

    assert passages_search(user_id=alice.pk, document_ids=[document.pk], query="otters")
    assert not passages_search(user_id=alice.pk, document_ids=[document.pk], query="penguins")
