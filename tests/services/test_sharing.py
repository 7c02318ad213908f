"""A share link shows the branch on the page when it was shared, and nothing else of its
owner's; it opens for people signed in (for anyone only where the site and the owner
allow it), stops at once when revoked, and a reader continues it as their own."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Attachment, Conversation, Message, Share, SiteSettings
from chat.services.usage.limits import site_settings_forget

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    client = Client()
    if user:
        client.force_login(user)
    return client


def _share(client: Client, conversation_id: int, **options):
    url = reverse("chat:share_create", args=[conversation_id])
    return client.post(url, data=json.dumps(options), content_type="application/json")


@pytest.fixture
def alices(alice) -> Conversation:
    """A question with an image, and two answers to it: the second is the one shown."""
    conversation = Conversation.objects.create(
        user=alice, title="Lisbon", system_prompt="SECRET SYSTEM PROMPT"
    )
    question = Message.objects.create(conversation=conversation, role="user", content="Food?")
    Attachment.objects.create(
        user=alice, message=question, content_type="image/png", size=1, width=1, height=1, data=b"P"
    )
    Message.objects.create(
        conversation=conversation, parent=question, role="assistant", content="OTHER BRANCH",
        status="complete",
    )  # fmt: skip
    shown = Message.objects.create(
        conversation=conversation, parent=question, role="assistant", content="**Pastéis**",
        status="complete",
    )  # fmt: skip
    conversation.current_leaf = shown
    conversation.save()
    return conversation


def _token(reply) -> str:
    return reply.json()["share"]["url"].rstrip("/").rsplit("/", 1)[1]


def test_a_share_shows_the_branch_on_the_page_and_nothing_else(alice, bob, alices):
    token = _token(_share(_client(alice), alices.pk))

    page = _client(bob).get(reverse("chat:share", args=[token]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Food?" in text
    assert "**Pastéis**" in text  # as text: the page renders it, sanitised
    assert "OTHER BRANCH" not in text
    assert "SECRET SYSTEM PROMPT" not in text
    assert "alice" not in text  # not even who shared it
    assert 'src="/s/' not in text  # no image unless chosen
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cache-Control"] == "no-store"


def test_the_link_is_a_snapshot_later_messages_are_not_added(alice, bob, alices):
    token = _token(_share(_client(alice), alices.pk))
    Message.objects.create(
        conversation=alices, role="user", content="LATER", parent=alices.current_leaf
    )

    page = _client(bob).get(reverse("chat:share", args=[token])).content.decode()

    assert "LATER" not in page


def test_images_are_shared_only_when_chosen_and_only_those(alice, bob, alices):
    image = Attachment.objects.get()
    other = Attachment.objects.create(
        user=alice, content_type="image/png", size=1, width=1, height=1, data=b"OTHER"
    )
    without = _token(_share(_client(alice), alices.pk))
    with_images = _token(_share(_client(alice), alices.pk, include_images=True))
    reader = _client(bob)

    page = reader.get(reverse("chat:share", args=[with_images])).content.decode()
    shown = reader.get(reverse("chat:share_image", args=[with_images, image.pk]))
    hidden = reader.get(reverse("chat:share_image", args=[without, image.pk]))
    unrelated = reader.get(reverse("chat:share_image", args=[with_images, other.pk]))

    assert f"/s/{with_images}/images/{image.pk}/" in page
    assert (shown.status_code, shown.content) == (200, b"P")
    assert hidden.status_code == unrelated.status_code == 404


def test_a_revoked_link_answers_exactly_like_a_wrong_one_at_once(alice, bob, alices):
    token = _token(_share(_client(alice), alices.pk))
    share = Share.objects.get()
    reader = _client(bob)
    assert reader.get(reverse("chat:share", args=[token])).status_code == 200

    revoked = _client(alice).post(reverse("chat:share_revoke", args=[share.pk]))
    after = reader.get(reverse("chat:share", args=[token]))
    wrong = reader.get(reverse("chat:share", args=["x" * 43]))

    image = reader.get(reverse("chat:share_image", args=[token, Attachment.objects.get().pk]))
    copied = reader.post(reverse("chat:share_continue", args=[token]))
    assert revoked.status_code == 302
    assert after.status_code == wrong.status_code == image.status_code == copied.status_code == 404
    assert after.content == wrong.content
    assert not Conversation.objects.filter(user=bob).exists()


def test_only_the_owner_can_share_or_revoke_and_list_their_links(alice, bob, alices):
    token = _token(_share(_client(alice), alices.pk))
    share = Share.objects.get()
    missing = Conversation.objects.order_by("-pk").first().pk + 1

    theirs = _share(_client(bob), alices.pk)
    nobodys = _share(_client(bob), missing)
    revoke = _client(bob).post(reverse("chat:share_revoke", args=[share.pk]))
    bobs_page = _client(bob).get(reverse("chat:data")).content.decode()

    assert theirs.status_code == nobodys.status_code == revoke.status_code == 404
    assert theirs.content == nobodys.content
    assert Share.objects.get().revoked_at is None
    assert token not in bobs_page
    assert token in _client(alice).get(reverse("chat:data")).content.decode()


def test_tokens_are_long_and_random(alice, alices):
    tokens = {_token(_share(_client(alice), alices.pk)) for _ in range(5)}

    assert len(tokens) == 5
    assert all(len(token) >= 43 for token in tokens)  # 256 bits


def test_without_signing_in_a_link_opens_only_if_the_site_and_the_owner_allow_it(alice, alices):
    owner = _client(alice)
    refused = _share(owner, alices.pk, public=True).json()
    private = _token(_share(owner, alices.pk))
    SiteSettings.objects.update_or_create(pk=1, defaults={"public_shares": True})
    site_settings_forget()
    public = _token(_share(owner, alices.pk, public=True))
    anonymous = _client()

    assert refused["ok"] is False
    assert "signed in" in refused["error"]
    assert anonymous.get(reverse("chat:share", args=[private])).status_code == 302
    assert anonymous.get(reverse("chat:share", args=[public])).status_code == 200
    SiteSettings.objects.filter(pk=1).update(public_shares=False)
    site_settings_forget()
    assert anonymous.get(reverse("chat:share", args=[public])).status_code == 302


def test_a_reader_continues_the_shared_branch_as_their_own_conversation(alice, bob, alices):
    token = _token(_share(_client(alice), alices.pk, include_images=True))

    reply = _client(bob).post(reverse("chat:share_continue", args=[token]))

    copy = Conversation.objects.get(user=bob)
    assert reply.url == reverse("chat:conversation", args=[copy.pk])
    said = [(m.role, m.content) for m in copy.messages.order_by("created_at", "id")]
    assert said == [("user", "Food?"), ("assistant", "**Pastéis**")]
    assert copy.current_leaf.content == "**Pastéis**"
    assert copy.system_prompt == ""
    assert Attachment.objects.filter(user=bob, message__conversation=copy).count() == 1
    assert _client(bob).get(reply.url).status_code == 200


def test_an_empty_conversation_has_nothing_to_share(alice):
    empty = Conversation.objects.create(user=alice)

    reply = _share(_client(alice), empty.pk).json()

    assert reply == {"ok": False, "error": "There is nothing to share yet."}
