"""A user sees what they keep here and deletes all of it at once, after saying they
understand; nobody else's data is touched, and their account and ledger stay."""

import pytest
from django.test import Client
from django.urls import reverse

from chat.documents.extraction import Extracted, Unit
from chat.documents.sniff import DocumentKind
from chat.models import (
    ApiKey,
    Attachment,
    Conversation,
    Document,
    Message,
    Passage,
    Preset,
    Project,
    User,
)
from chat.services.api.keys import api_key_create
from chat.services.documents.library import document_save

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _data_of(user) -> None:
    conversation = Conversation.objects.create(user=user, title="mine")
    question = Message.objects.create(conversation=conversation, role="user", content="hi")
    Attachment.objects.create(
        user=user, message=question, content_type="image/png", size=1, width=1, height=1, data=b"x"
    )
    Attachment.objects.create(
        user=user, content_type="image/png", size=1, width=1, height=1, data=b"y"
    )
    extracted = Extracted(DocumentKind.TEXT, [Unit("document", 1, "", "Some words.")])
    document_save(user=user, name="a.txt", data=b"Some words.", extracted=extracted)


def _counts(user) -> tuple[int, int, int]:
    return (
        Conversation.objects.filter(user=user).count(),
        Document.objects.filter(user=user).count(),
        Attachment.objects.filter(user=user).count(),
    )


def test_the_page_says_what_the_user_keeps_here(alice):
    _data_of(alice)

    page = _client(alice).get(reverse("chat:data")).content.decode()

    assert "You have 1 conversation, 1 document in your library and 2 images." in page


def test_deleting_all_data_needs_the_box_ticked(alice):
    _data_of(alice)

    refused = _client(alice).post(reverse("chat:data_delete"))

    assert refused.status_code == 400
    assert "Tick the box" in refused.content.decode()
    assert _counts(alice) == (1, 1, 2)


def test_all_of_a_users_data_goes_and_nobody_elses(alice, bob):
    _data_of(alice)
    _data_of(bob)
    api_key_create(user=alice, name="script", expires_at=None, allowed_models=[])
    Project.objects.create(user=alice, name="P")
    Preset.objects.create(user=alice, name="Mine")
    Preset.objects.create(name="Published", everyone=True)

    client = _client(alice)
    done = client.post(reverse("chat:data_delete"), {"confirm": "on"})

    assert done.url == reverse("chat:data")  # a reload does not post again
    assert "Deleted: 1 conversations and 1 documents." in client.get(done.url).content.decode()
    assert _counts(alice) == (0, 0, 0)
    assert not Passage.objects.filter(document__user=alice).exists()
    assert _counts(bob) == (1, 1, 2)
    assert User.objects.filter(pk=alice.pk, is_active=True).exists()
    assert ApiKey.objects.filter(user=alice).count() == 1
    assert not Project.objects.filter(user=alice).exists()
    assert list(Preset.objects.values_list("name", flat=True)) == ["Published"]


def test_nothing_is_deleted_while_an_answer_is_being_written(alice):
    _data_of(alice)
    Message.objects.create(
        conversation=Conversation.objects.get(user=alice), role="assistant", status="streaming"
    )

    busy = _client(alice).post(reverse("chat:data_delete"), {"confirm": "on"})

    assert busy.status_code == 409
    assert _counts(alice) == (1, 1, 2)


def test_deleting_all_data_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(reverse("chat:data_delete"), {"confirm": "on"}).status_code == 403
