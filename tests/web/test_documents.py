"""Documents over HTTP: brought, listed, read and deleted by their owner only; a refused
file says why and leaves nothing behind."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from chat.documents.refusals import TEXTS
from chat.models import Document, Passage, SiteSettings
from chat.services.answers.sending import message_send
from chat.services.usage.limits import site_settings_forget
from tests.documents import files

pytestmark = pytest.mark.django_db


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _upload(client: Client, data: bytes, name: str):
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("chat:document_upload"), {"file": file})


def test_alice_brings_a_pdf_and_sees_it_in_her_library_with_its_pages(alice):
    reply = _upload(_client(alice), files.pdf(["First page text", "Second page"]), "a.pdf")

    document = reply.json()["document"]
    assert (document["name"], document["kind"], document["pages"]) == ("a.pdf", "pdf", 2)
    library = _client(alice).get(reverse("chat:documents")).json()["documents"]
    assert [d["id"] for d in library] == [document["id"]]
    detail = _client(alice).get(reverse("chat:document", args=[document["id"]])).json()
    assert [(p["unit"], p["n"]) for p in detail["passages"]] == [("page", 1), ("page", 2)]
    assert "First page text" in detail["passages"][0]["text"]


def test_another_users_document_answers_exactly_like_a_missing_one(alice, bob):
    mine = _upload(_client(alice), b"my secret notes", "notes.txt").json()["document"]["id"]
    missing = Document.objects.order_by("-id").first().pk + 1000

    theirs = _client(bob).get(reverse("chat:document", args=[mine]))
    absent = _client(bob).get(reverse("chat:document", args=[missing]))

    assert (theirs.status_code, theirs.content) == (absent.status_code, absent.content)
    assert theirs.status_code == 404
    assert b"secret" not in theirs.content
    assert _client(bob).get(reverse("chat:documents")).json() == {"documents": []}


def test_only_its_owner_can_delete_a_document_and_its_passages_go_with_it(alice, bob):
    document_id = _upload(_client(alice), b"some words", "a.txt").json()["document"]["id"]

    refused = _client(bob).post(reverse("chat:document_delete", args=[document_id]))
    assert refused.status_code == 404
    assert Document.objects.filter(pk=document_id).exists()

    deleted = _client(alice).post(reverse("chat:document_delete", args=[document_id]))
    assert deleted.json() == {"ok": True}
    assert not Passage.objects.filter(document_id=document_id).exists()
    gone = _client(alice).get(reverse("chat:document", args=[document_id]))
    assert gone.status_code == 404


def test_a_refused_document_says_why_and_nothing_is_saved(alice, settings):
    settings.CHAT_DOCUMENT_MAX_BYTES = 10_000

    scan = _upload(_client(alice), files.pdf(["", ""]), "scan.pdf").json()
    binary = _upload(_client(alice), bytes(range(256)) * 4, "data.txt").json()
    large = _upload(_client(alice), b"a" * 10_001, "large.txt").json()

    assert (scan["ok"], scan["code"]) == (False, "no_text_pdf")
    assert "scan" in scan["error"]
    assert (binary["ok"], binary["code"]) == (False, "unsupported")
    assert (large["ok"], large["code"]) == (False, "too_large")
    assert Document.objects.count() == 0


def test_a_full_library_refuses_the_next_document_until_one_is_deleted(alice, settings):
    settings.CHAT_DOCUMENT_LIBRARY_BYTES = 30
    client = _client(alice)
    first = _upload(client, b"twenty bytes of text", "a.txt").json()["document"]

    full = _upload(client, b"eleven more", "b.txt").json()
    client.post(first["delete_url"])
    again = _upload(client, b"eleven more", "b.txt").json()

    assert full == {"ok": False, "code": "library_full", "error": TEXTS["library_full"]}
    assert again["ok"]


def test_only_a_pdf_keeps_its_bytes_the_only_ones_ever_sent(alice):
    client = _client(alice)
    pdf = _upload(client, files.pdf(["Text"]), "a.pdf").json()["document"]
    text = _upload(client, b"Some text", "a.txt").json()["document"]

    kept = dict(Document.objects.values_list("pk", "data"))

    assert bytes(kept[pdf["id"]]).startswith(b"%PDF")
    assert bytes(kept[text["id"]]) == b""
    assert Document.objects.get(pk=text["id"]).size == 9


def test_bringing_a_document_needs_the_csrf_token(alice):
    client = _client(alice, enforce_csrf_checks=True)
    file = SimpleUploadedFile("a.txt", b"words")

    assert client.post(reverse("chat:document_upload"), {"file": file}).status_code == 403
    assert Document.objects.count() == 0


def test_both_exports_name_the_documents_a_question_brought(alice):
    client = _client(alice)
    document_id = _upload(client, b"Agenda for Monday.", "agenda.txt").json()["document"]["id"]
    sent = message_send(
        user=alice, conversation_id=None, content="Read this", document_ids=[document_id]
    )
    conversation_id = sent.conversation.pk

    markdown = client.get(reverse("chat:export", args=[conversation_id, "md"])).content.decode()
    exported = client.get(reverse("chat:export", args=[conversation_id, "json"])).json()

    assert "## You\n\n*Documents: agenda.txt*\n\nRead this" in markdown
    question = next(m for m in exported["messages"] if m["role"] == "user")
    assert question["documents"] == ["agenda.txt"]


@pytest.mark.django_db(transaction=True)
def test_with_embeddings_on_a_brought_document_gets_its_vectors(alice, upstream):
    SiteSettings.objects.update_or_create(pk=1, defaults={"embeddings_model": "fake-embedding"})
    site_settings_forget()

    reply = _upload(_client(alice), files.pdf(["A car", "A house"]), "a.pdf").json()

    document = Document.objects.get(pk=reply["document"]["id"])
    assert document.embedding_model == "fake-embedding"
    assert Passage.objects.filter(document=document, embedding__isnull=False).count() == 2
    assert upstream.embeddings_requests() == [2]
