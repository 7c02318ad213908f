"""Projects: conversations started in one, or moved there, get its instructions (before
their own system prompt), its parameters (under their own) and its documents with every
question; everything is scoped to the project's owner."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message, Project
from chat.services.answers.sending import message_send
from chat.services.conversations.projects import ProjectFields, project_save
from tests.services.test_documents import PAGES, _save
from tests.websocket import connect

pytestmark = pytest.mark.django_db


def _project(user, **settings) -> Project:
    document = _save(user)
    fields = ProjectFields(
        name="Zoo",
        settings={"system_prompt": "You run a zoo.", **settings},
        document_ids=[document.pk],
    )
    return project_save(user=user, fields=fields)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_conversation_started_in_a_project_gets_its_instructions_parameters_and_documents(
    alice,
):
    project = _project(alice, temperature="0.3")

    sent = message_send(
        user=alice, conversation_id=None, content="Who lives in herds?", project_id=project.pk
    )

    assert sent.conversation.project == project
    messages = sent.request.messages
    assert messages[0] == {"role": "system", "content": "You run a zoo."}
    assert all(page in messages[-1]["content"] for page in PAGES)
    assert sent.request.parameters["temperature"] == 0.3


def test_its_own_system_prompt_and_parameters_come_after_and_over_the_projects(alice):
    project = _project(alice, temperature="0.3")
    conversation = Conversation.objects.create(
        user=alice, project=project, system_prompt="Be brief.", parameters={"temperature": 1.0}
    )
    Message.objects.create(conversation=conversation, role="user", content="Hi")
    Message.objects.filter(conversation=conversation).update(status="complete")

    sent = message_send(user=alice, conversation_id=conversation.pk, content="Again")

    assert sent.request.messages[0]["content"] == "You run a zoo.\n\nBe brief."
    assert sent.request.parameters["temperature"] == 1.0


def test_another_users_project_is_refused_and_nothing_is_saved(alice, bob):
    theirs = _project(alice)

    with pytest.raises(Project.DoesNotExist):
        message_send(user=bob, conversation_id=None, content="mine?", project_id=theirs.pk)

    assert Conversation.objects.filter(user=bob).count() == 0


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_another_users_project_is_not_found(alice, bob, upstream):
    theirs = await sync_to_async(_project)(alice)
    ws = await connect(bob)
    await ws.send_json_to({"type": "send", "content": "x", "project_id": theirs.pk})
    reply = await ws.receive_json_from()
    await ws.disconnect()

    assert reply == {"type": "error", "code": "not_found", "message": "Project not found."}
    assert upstream.log() == []


def test_a_conversation_moves_between_projects_by_its_owner_only(alice, bob):
    project = _project(alice)
    conversation = Conversation.objects.create(user=alice, title="loose")
    bobs = Project.objects.create(user=bob, name="Bob's")

    def move(user, project_id):
        url = reverse("chat:move", args=[conversation.pk])
        body = json.dumps({"project_id": project_id})
        return _client(user).post(url, body, content_type="application/json")

    into_bobs = move(alice, bobs.pk)
    by_bob = move(bob, None)
    moved = move(alice, project.pk)
    assert (into_bobs.status_code, by_bob.status_code) == (404, 404)
    assert moved.json() == {"ok": True, "project_id": project.pk}
    conversation.refresh_from_db()
    assert conversation.project == project
    assert move(alice, "zoo").json()["ok"] is False

    move(alice, None)
    conversation.refresh_from_db()
    assert conversation.project is None


def test_the_projects_pages_make_change_and_delete_a_project_keeping_its_conversations(alice, bob):
    client = _client(alice)
    document = _save(alice)
    made = client.post(
        reverse("chat:projects"),
        {
            "name": "Research",
            "system_prompt": "Cite.",
            "temperature": "0.5",
            "documents": [document.pk],
        },
    )
    project = Project.objects.get(user=alice)
    assert made.url == reverse("chat:project", args=[project.pk])
    assert (project.system_prompt, project.parameters) == ("Cite.", {"temperature": 0.5})
    assert list(project.documents.all()) == [document]

    bad = client.post(reverse("chat:project", args=[project.pk]), {"name": "R", "temperature": "9"})
    assert "Temperature must be a number from 0 to 2." in bad.content.decode()
    assert _client(bob).get(reverse("chat:project", args=[project.pk])).status_code == 404
    assert _client(bob).post(reverse("chat:project_delete", args=[project.pk])).status_code == 404

    kept = Conversation.objects.create(user=alice, project=project)
    client.post(reverse("chat:project_delete", args=[project.pk]))
    assert not Project.objects.exists()
    kept.refresh_from_db()
    assert kept.project is None


def test_a_new_chat_in_another_users_project_is_a_404(alice, bob):
    theirs = _project(alice)

    assert _client(bob).get(reverse("chat:home"), {"project": theirs.pk}).status_code == 404
    assert _client(bob).get(reverse("chat:home"), {"project": "x"}).status_code == 404
    assert _client(alice).get(reverse("chat:home"), {"project": "²"}).status_code == 404
    page = _client(alice).get(reverse("chat:home"), {"project": theirs.pk})
    assert page.context["chat_config"]["project"]["id"] == theirs.pk


def test_a_new_conversation_in_a_project_takes_its_model_and_provider_when_none_is_picked(
    alice, upstream
):
    project = Project.objects.create(user=alice, name="Large", model="chatsite-demo-large")

    sent = message_send(user=alice, conversation_id=None, content="Hi", project_id=project.pk)
    picked = message_send(
        user=alice,
        conversation_id=None,
        content="Hi",
        project_id=project.pk,
        provider="",
        model="chatsite-demo",
    )

    assert (sent.conversation.provider, sent.conversation.model) == ("", "chatsite-demo-large")
    assert picked.conversation.model == "chatsite-demo"


def test_a_project_document_a_question_also_brought_goes_once(alice):
    project = _project(alice)
    document = project.documents.get()

    sent = message_send(
        user=alice,
        conversation_id=None,
        content="Read it",
        project_id=project.pk,
        document_ids=[document.pk],
    )

    assert sent.request.messages[-1]["content"].count(PAGES[0]) == 1
