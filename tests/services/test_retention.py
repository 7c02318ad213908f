"""Conversations are kept as long as the site says, or a member's groups (the longest of
theirs); the daily command deletes older ones with their messages and images and keeps
the usage ledger."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from chat.models import Attachment, Conversation, GroupLimits, Message, SiteSettings, Usage
from chat.services.conversations.retention import conversations_expire, retention_days_of
from chat.services.usage.ledger import UsageCounts, usage_record

pytestmark = pytest.mark.django_db


def _conversation(user, days_ago: int, title: str = "") -> Conversation:
    conversation = Conversation.objects.create(user=user, title=title or f"{days_ago} days")
    question = Message.objects.create(conversation=conversation, role="user", content="hi")
    Attachment.objects.create(
        user=user, message=question, content_type="image/png", size=1, width=1, height=1, data=b"x"
    )
    when = timezone.now() - datetime.timedelta(days=days_ago)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=when, created_at=when)
    return conversation


def _left(user) -> list[str]:
    return sorted(Conversation.objects.filter(user=user).values_list("title", flat=True))


def _keep(days: int | None) -> None:
    SiteSettings.objects.update_or_create(pk=1, defaults={"retention_days": days})


def _group(name: str, days: int, *members) -> None:
    group = Group.objects.create(name=name)
    GroupLimits.objects.create(group=group, retention_days=days)
    group.user_set.add(*members)


def test_without_a_setting_nothing_is_deleted(alice):
    _conversation(alice, 4000)

    assert conversations_expire().conversations == 0
    assert _left(alice) == ["4000 days"]
    assert retention_days_of(alice) is None


def test_the_site_setting_deletes_older_conversations_with_their_images_and_keeps_the_ledger(
    alice, bob
):
    _keep(30)
    old = _conversation(alice, 31)
    _conversation(alice, 29)
    _conversation(bob, 45)
    usage_record(
        user_id=alice.pk,
        conversation_id=old.pk,
        message_id=None,
        purpose="answer",
        provider="p",
        model="m",
        status="complete",
        counts=UsageCounts(prompt_tokens=7),
    )

    expired = conversations_expire()

    assert (expired.conversations, expired.messages) == (2, 2)
    assert _left(alice) == ["29 days"]
    assert _left(bob) == []
    assert Attachment.objects.count() == 1
    row = Usage.objects.get()
    assert (row.prompt_tokens, row.conversation_id) == (7, None)


def test_a_group_keeps_its_members_conversations_longer_or_shorter_than_the_site(alice, bob):
    _keep(30)
    _group("legal", 365, alice)
    _group("interns", 7, bob)
    _conversation(alice, 100, "alice 100")
    _conversation(alice, 400, "alice 400")
    _conversation(bob, 10, "bob 10")
    _conversation(bob, 3, "bob 3")

    conversations_expire()

    assert _left(alice) == ["alice 100"]
    assert _left(bob) == ["bob 3"]
    assert (retention_days_of(alice), retention_days_of(bob)) == (365, 7)


def test_a_member_of_several_groups_keeps_them_the_longest_of_their_times(alice):
    _group("short", 7, alice)
    _group("long", 90, alice)
    _conversation(alice, 30)

    conversations_expire()

    assert _left(alice) == ["30 days"]
    assert retention_days_of(alice) == 90


def test_a_conversation_with_an_answer_being_written_is_kept(alice):
    _keep(1)
    busy = _conversation(alice, 10, "busy")
    Message.objects.create(conversation=busy, role="assistant", status="streaming")

    conversations_expire()

    assert _left(alice) == ["busy"]


def test_an_imported_conversation_is_kept_its_time_from_its_import_not_its_source(alice):
    _keep(30)
    old = _conversation(alice, 400, "imported long ago, written in long ago")
    Conversation.objects.filter(pk=old.pk).update(created_at=timezone.now())

    conversations_expire()

    assert _left(alice) == ["imported long ago, written in long ago"]


def test_a_pinned_conversation_is_deleted_like_any_other(alice):
    _keep(30)
    pinned = _conversation(alice, 31)
    Conversation.objects.filter(pk=pinned.pk).update(pinned_at=timezone.now())

    conversations_expire()

    assert _left(alice) == []


def test_the_daily_command_says_what_it_deleted(alice, capsys):
    _keep(30)
    _conversation(alice, 60)

    call_command("conversations_expire")

    assert capsys.readouterr().out.strip() == "1 conversations deleted (1 messages)."
    assert _left(alice) == []
