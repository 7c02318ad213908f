"""Pin a conversation to the top of the list, archive it out of the list and restore it:
each only ever reaches the user's own conversations, and a bad request says why."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Conversation
from chat.selectors import conversation_list

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, data=None):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def _titles(user) -> list[str]:
    return [c.title for c in conversation_list(user=user)]


@pytest.fixture
def three(alice) -> list[Conversation]:
    """Oldest first: "a", "b", "c"; the list shows "c" first."""
    return [Conversation.objects.create(user=alice, title=title) for title in "abc"]


def test_a_pinned_conversation_comes_first_and_unpinned_goes_back_to_its_place(alice, three):
    client = _client(alice)

    pinned = _post(client, reverse("chat:pin", args=[three[0].pk]), {"pinned": True})
    assert pinned.json() == {"ok": True, "pinned": True}
    assert _titles(alice) == ["a", "c", "b"]

    _post(client, reverse("chat:pin", args=[three[1].pk]), {"pinned": True})
    assert _titles(alice) == ["b", "a", "c"]  # the most recently pinned first

    _post(client, reverse("chat:pin", args=[three[0].pk]), {"pinned": False})
    _post(client, reverse("chat:pin", args=[three[1].pk]), {"pinned": False})
    assert _titles(alice) == ["c", "b", "a"]


def test_an_archived_conversation_leaves_the_list_is_found_and_comes_back(alice, three):
    client = _client(alice)
    _post(client, reverse("chat:pin", args=[three[1].pk]), {"pinned": True})

    archived = _post(client, reverse("chat:archive", args=[three[1].pk]), {"archived": True})

    # With its date, by which the page puts it back in its place when it is restored.
    assert archived.json() == {
        "ok": True,
        "archived": True,
        "updated": three[1].updated_at.isoformat(),
    }
    assert _titles(alice) == ["c", "a"]
    listed = client.get(reverse("chat:archived")).json()["conversations"]
    assert [(c["id"], c["title"]) for c in listed] == [(three[1].pk, "b")]
    found = client.get(reverse("chat:search"), {"q": "b"}).json()["results"]
    assert [(r["id"], r["archived"]) for r in found] == [(three[1].pk, True)]
    assert client.get(reverse("chat:conversation", args=[three[1].pk])).status_code == 200

    _post(client, reverse("chat:archive", args=[three[1].pk]), {"archived": False})

    assert _titles(alice) == ["c", "b", "a"]  # back in its place, no longer pinned
    assert client.get(reverse("chat:archived")).json() == {"conversations": []}


@pytest.mark.parametrize("body", [None, {}, {"pinned": "yes"}, {"pinned": 1}, [True]])
def test_a_pin_without_true_or_false_is_refused_and_changes_nothing(alice, three, body):
    response = _post(_client(alice), reverse("chat:pin", args=[three[0].pk]), body)

    assert response.json() == {"ok": False, "error": 'Send {"pinned": true} or {"pinned": false}.'}
    assert _titles(alice) == ["c", "b", "a"]


def test_another_users_conversation_cannot_be_pinned_archived_or_listed(alice, bob, three):
    client = _client(bob)
    missing = Conversation.objects.order_by("-pk").first().pk + 100

    for name, body in (("chat:pin", {"pinned": True}), ("chat:archive", {"archived": True})):
        theirs = _post(client, reverse(name, args=[three[0].pk]), body)
        nobodys = _post(client, reverse(name, args=[missing]), body)
        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.content == nobodys.content

    Conversation.objects.filter(pk=three[2].pk).update(archived_at="2026-01-01T00:00Z")
    assert client.get(reverse("chat:archived")).json() == {"conversations": []}
    assert _titles(alice) == ["b", "a"]
    assert Conversation.objects.filter(pinned_at__isnull=False).count() == 0


def test_pinning_and_archiving_need_the_csrf_token(alice, three):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    for name, body in (("chat:pin", {"pinned": True}), ("chat:archive", {"archived": True})):
        url = reverse(name, args=[three[0].pk])
        assert _post(client, url, body).status_code == 403
