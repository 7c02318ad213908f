"""Rename, delete, search and export: each only ever reaches the user's own conversations."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message, Usage
from chat.services.answers.branches import message_regenerate

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def alices(alice) -> Conversation:
    conversation = Conversation.objects.create(
        user=alice, title="Trip to Lisbon", system_prompt="Be a travel agent."
    )
    question = Message.objects.create(
        conversation=conversation, role="user", content="Where do I eat pastel de nata?"
    )
    Message.objects.create(
        conversation=conversation,
        parent=question,
        role="assistant",
        content="Try the bakery in Belém.",
        status="complete",
    )
    return conversation


# --- rename -------------------------------------------------------------------------------


def test_alice_renames_her_conversation(alice, alices):
    response = _post(_client(alice), reverse("chat:rename", args=[alices.pk]), {"title": " Food "})

    assert response.json() == {"ok": True, "title": "Food"}
    alices.refresh_from_db()
    assert alices.title == "Food"


def test_a_blank_name_is_refused_and_the_old_one_kept(alice, alices):
    response = _post(_client(alice), reverse("chat:rename", args=[alices.pk]), {"title": "  "})

    assert response.json() == {"ok": False, "error": "The name is empty."}
    alices.refresh_from_db()
    assert alices.title == "Trip to Lisbon"


def test_bob_cannot_rename_alices_conversation(bob, alices):
    response = _post(_client(bob), reverse("chat:rename", args=[alices.pk]), {"title": "Bob's"})

    assert response.status_code == 404
    alices.refresh_from_db()
    assert alices.title == "Trip to Lisbon"


# --- delete -------------------------------------------------------------------------------


def test_alice_deletes_her_conversation_and_its_usage_stays_in_the_ledger(alice, alices):
    Usage.objects.create(
        user=alice, conversation=alices, provider="p", model="m", status="complete"
    )

    response = _post(_client(alice), reverse("chat:delete", args=[alices.pk]))

    assert response.json() == {"ok": True, "url": reverse("chat:home")}
    assert not Conversation.objects.filter(pk=alices.pk).exists()
    assert Message.objects.count() == 0
    assert Usage.objects.get().conversation is None


def test_bob_cannot_delete_alices_conversation(bob, alices):
    response = _post(_client(bob), reverse("chat:delete", args=[alices.pk]))

    assert response.status_code == 404
    assert Conversation.objects.filter(pk=alices.pk).exists()


def test_a_conversation_with_an_answer_being_written_is_not_deleted(alice, alices):
    answer = alices.messages.get(role="assistant")
    message_regenerate(user=alice, message_id=answer.pk)

    response = _post(_client(alice), reverse("chat:delete", args=[alices.pk]))

    assert response.json()["ok"] is False
    assert Conversation.objects.filter(pk=alices.pk).exists()


def test_deleting_needs_a_post_with_the_csrf_token(alice, alices):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.get(reverse("chat:delete", args=[alices.pk])).status_code == 405
    assert _post(client, reverse("chat:delete", args=[alices.pk])).status_code == 403
    assert Conversation.objects.filter(pk=alices.pk).exists()


# --- search -------------------------------------------------------------------------------


def _search(user, query: str) -> list[dict]:
    response = _client(user).get(reverse("chat:search"), {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def test_search_finds_words_in_titles_and_in_messages(alice, alices):
    Conversation.objects.create(user=alice, title="Something else")

    by_title = _search(alice, "lisbon")
    by_message = _search(alice, "BAKERY in")

    assert [r["id"] for r in by_title] == [alices.pk]
    assert by_title[0]["url"] == reverse("chat:conversation", args=[alices.pk])
    assert [r["id"] for r in by_message] == [alices.pk]
    assert "bakery in Belém" in by_message[0]["snippet"]


def test_search_never_finds_another_users_words(bob, alices):
    Conversation.objects.create(user=bob, title="Bob's notes")

    assert _search(bob, "nata") == []
    assert _search(bob, "Lisbon") == []
    assert [r["title"] for r in _search(bob, "notes")] == ["Bob's notes"]


def test_an_empty_search_finds_nothing(alice, alices):
    assert _search(alice, "  ") == []


# --- export -------------------------------------------------------------------------------


def test_markdown_export_is_the_selected_branch_as_a_download(alice, alices):
    response = _client(alice).get(reverse("chat:export", args=[alices.pk, "md"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="chatsite-conversation-{alices.pk}.md"'
    )
    assert response.content.decode() == (
        "# Trip to Lisbon\n\n## System prompt\n\nBe a travel agent.\n\n"
        "## You\n\nWhere do I eat pastel de nata?\n\n"
        "## Assistant\n\nTry the bakery in Belém.\n"
    )


def test_json_export_holds_every_version_and_names_the_selected_branch(alice, alices):
    answer = alices.messages.get(role="assistant")
    again = message_regenerate(user=alice, message_id=answer.pk).assistant_message

    response = _client(alice).get(reverse("chat:export", args=[alices.pk, "json"]))

    assert response["Content-Disposition"] == (
        f'attachment; filename="chatsite-conversation-{alices.pk}.json"'
    )
    data = json.loads(response.content)
    assert data["title"] == "Trip to Lisbon"
    assert [m["id"] for m in data["messages"]] == [answer.parent_id, answer.pk, again.pk]
    assert data["branch"] == [answer.parent_id, again.pk]
    assert data["messages"][1]["parent_id"] == answer.parent_id


def test_both_exports_name_the_tools_an_answer_ran(alice, alices):
    run = {"id": "1-0", "name": "maps__find", "label": "Maps: find", "status": "done"}
    alices.messages.filter(role="assistant").update(tool_runs=[run])

    markdown = _client(alice).get(reverse("chat:export", args=[alices.pk, "md"])).content
    data = json.loads(_client(alice).get(reverse("chat:export", args=[alices.pk, "json"])).content)

    assert "## Assistant\n\n*Tool Maps: find (done)*\n\nTry the bakery" in markdown.decode()
    assert data["messages"][1]["tool_runs"] == [run]


def test_bob_cannot_export_alices_conversation(bob, alices):
    for fmt in ("md", "json"):
        response = _client(bob).get(reverse("chat:export", args=[alices.pk, fmt]))
        assert response.status_code == 404
        assert b"nata" not in response.content


def test_only_markdown_and_json_are_exported(alice, alices):
    response = _client(alice).get(reverse("chat:export", args=[alices.pk, "html"]))
    assert response.status_code == 404
