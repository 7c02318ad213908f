"""How long conversations are kept: the site's setting, or for a member of groups that
set one, the longest of theirs (as for limits, the most generous group's wins). The daily
`manage.py conversations_expire` deletes what is older, with its messages and images; the
usage ledger stays (its rows lose their conversation, and never held message text)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from chat.models import Conversation, GroupLimits, Message, SiteSettings, User

# Conversations deleted per statement: a site with years of them is not one transaction.
BATCH = 500


@dataclass(frozen=True)
class Expired:
    conversations: int
    messages: int


def retention_days_by_user() -> dict[int, int]:
    """Users whose groups set a retention -> the longest of their groups' days."""
    days_by_group = {
        group_id: int(days or 0)
        for group_id, days in GroupLimits.objects.filter(retention_days__isnull=False).values_list(
            "group_id", "retention_days"
        )
    }
    longest: dict[int, int] = {}
    memberships = User.groups.through.objects.filter(group_id__in=list(days_by_group))
    for user_id, group_id in memberships.values_list("user_id", "group_id"):
        longest[user_id] = max(longest.get(user_id, 0), days_by_group[group_id])
    return longest


def retention_days_of(user: User) -> int | None:
    """How many days the user's conversations are kept since last written in; None:
    for ever."""
    groups = GroupLimits.objects.filter(group__user=user, retention_days__isnull=False)
    longest = max((int(d or 0) for d in groups.values_list("retention_days", flat=True)), default=0)
    if longest:
        return longest
    site = SiteSettings.objects.filter(pk=1).values_list("retention_days", flat=True).first()
    return int(site) if site else None


def conversations_expired(now: datetime.datetime | None = None) -> Q | None:
    """The conversations past their keeping time now; None when nothing expires."""
    now = now or timezone.now()
    site = SiteSettings.objects.filter(pk=1).values_list("retention_days", flat=True).first()
    users_by_days: dict[int, list[int]] = defaultdict(list)
    for user_id, days in retention_days_by_user().items():
        users_by_days[days].append(user_id)

    def older(days: int) -> Q:
        # Written in, or brought here (an import keeps its source's dates), before then.
        before = now - datetime.timedelta(days=days)
        return Q(updated_at__lt=before, created_at__lt=before)

    expired = Q(pk__in=[])
    for days, user_ids in users_by_days.items():
        expired |= Q(user_id__in=user_ids) & older(days)
    if site:
        own = [user_id for ids in users_by_days.values() for user_id in ids]
        expired |= older(site) & ~Q(user_id__in=own)
    return expired if site or users_by_days else None


def conversations_expire(now: datetime.datetime | None = None) -> Expired:
    """Delete every conversation past its keeping time (pinned ones too: the keeping
    time is the organisation's rule), BATCH at a time, except one with an answer being
    written (it was written in just now, whatever its date says)."""
    expired = conversations_expired(now)
    if expired is None:
        return Expired(0, 0)
    busy = Message.objects.filter(status=Message.Status.STREAMING).values("conversation_id")
    candidates = Conversation.objects.filter(expired).exclude(pk__in=busy)
    conversations = messages = 0
    while ids := list(candidates.values_list("pk", flat=True)[:BATCH]):
        # Checked again as they are deleted: a message sent since keeps its conversation.
        _, deleted = candidates.filter(pk__in=ids).delete()
        conversations += deleted.get("chat.Conversation", 0)
        messages += deleted.get("chat.Message", 0)
    return Expired(conversations, messages)
