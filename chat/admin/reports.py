"""What the admin's usage dashboard shows, read from the daily totals: `UsageDailyModel`
(a few hundred rows for a busy site's month) for the site's figures, `UsageDaily` (per
user) for the per-user ones and whenever one user is chosen; the ledger itself only for
the API keys' figures, which the totals do not keep."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from chat.models import DailyTotals, Usage, UsageDaily, UsageDailyModel, User

_TOTALS = {
    "requests": Sum("requests"),
    "prompt_tokens": Sum("prompt_tokens"),
    "completion_tokens": Sum("completion_tokens"),
    "cached_tokens": Sum("cached_tokens"),
    "reasoning_tokens": Sum("reasoning_tokens"),
    "estimated_requests": Sum("estimated_requests"),
    "cost": Sum("cost"),
}


@dataclass(frozen=True)
class UsageFilter:
    start: datetime.date
    end: datetime.date  # inclusive
    user_id: int | None = None
    group_id: int | None = None  # the group's members as they are now
    model: str = ""
    provider: str = ""

    @property
    def days(self) -> list[datetime.date]:
        count = (self.end - self.start).days + 1
        return [self.start + datetime.timedelta(days=n) for n in range(max(count, 0))]


def _daily(f: UsageFilter, *, per_user: bool = False) -> QuerySet[Any]:
    if per_user or f.user_id is not None or f.group_id is not None:
        rows = UsageDaily.objects.filter(day__gte=f.start, day__lte=f.end)
        if f.user_id is not None:
            rows = rows.filter(user_id=f.user_id)
        if f.group_id is not None:
            rows = rows.filter(user__groups=f.group_id)
        return _of_model(rows, f)
    return _of_model(UsageDailyModel.objects.filter(day__gte=f.start, day__lte=f.end), f)


def _of_model(rows: QuerySet[DailyTotals], f: UsageFilter) -> QuerySet[DailyTotals]:
    """Narrowed to the filter's model and provider, in no order."""
    if f.model:
        rows = rows.filter(model=f.model)
    if f.provider:
        rows = rows.filter(provider=f.provider)
    return rows.order_by()


def _with_total(row: dict[str, Any]) -> dict[str, Any]:
    for name in _TOTALS:
        row[name] = row[name] or (Decimal(0) if name == "cost" else 0)
    row["total_tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    return row


def usage_totals(f: UsageFilter) -> dict[str, Any]:
    return _with_total(_daily(f).aggregate(**_TOTALS))


def usage_by_user(f: UsageFilter, limit: int = 200) -> list[dict[str, Any]]:
    """The heaviest users first. Grouped on the id alone: names are read for these only."""
    rows = list(
        _daily(f, per_user=True)
        .values("user_id")
        .annotate(**_TOTALS)
        .order_by("-cost", "-prompt_tokens", "user_id")[:limit]
    )
    names = dict(
        User.objects.filter(pk__in=[row["user_id"] for row in rows]).values_list("pk", "username")
    )
    return [_with_total(row | {"user__username": names.get(row["user_id"], "")}) for row in rows]


def usage_by_group(f: UsageFilter) -> list[dict[str, Any]]:
    """Each group's members together (as they are now; a member of two groups counts in
    both), the heaviest first."""
    rows = list(
        _daily(f, per_user=True)
        .filter(user__groups__isnull=False)
        .values("user__groups")
        .annotate(**_TOTALS)
        .order_by("-cost", "-prompt_tokens", "user__groups")
    )
    if f.group_id is not None:
        # Narrowed to one group's members: the other groups' rows would hold only the part
        # of their members who are in it too.
        rows = [row for row in rows if row["user__groups"] == f.group_id]
    names = dict(Group.objects.values_list("pk", "name"))
    return [
        _with_total(row | {"group_id": row["user__groups"], "name": names.get(row["user__groups"])})
        for row in rows
    ]


def usage_by_key(f: UsageFilter, limit: int = 200) -> list[dict[str, Any]]:
    """Each API key's requests in the period, the heaviest first. Read from the ledger's
    purpose=api rows (the daily totals do not keep the key), by its date index."""
    start = timezone.make_aware(datetime.datetime.combine(f.start, datetime.time()))
    end = timezone.make_aware(datetime.datetime.combine(f.end, datetime.time()))
    rows = Usage.objects.filter(
        purpose=Usage.Purpose.API,
        created_at__gte=start,
        created_at__lt=end + datetime.timedelta(days=1),
    )
    if f.user_id is not None:
        rows = rows.filter(user_id=f.user_id)
    if f.group_id is not None:
        rows = rows.filter(user__groups=f.group_id)
    if f.model:
        rows = rows.filter(model=f.model)
    if f.provider:
        rows = rows.filter(provider=f.provider)
    found = (
        rows.values("api_key_id", "api_key__name", "api_key__last_four", "user__username")
        .annotate(
            requests=Count("id"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost=Sum("cost"),
        )
        .order_by("-cost", "-prompt_tokens", "api_key_id")[:limit]
    )
    return [
        row | {"total_tokens": (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0)}
        for row in found
    ]


def usage_by_model(f: UsageFilter) -> list[dict[str, Any]]:
    rows = (
        _daily(f)
        .values("provider", "model")
        .annotate(**_TOTALS)
        .order_by("-cost", "-prompt_tokens", "model")
    )
    return [_with_total(row) for row in rows]


def usage_by_day(f: UsageFilter) -> list[dict[str, Any]]:
    """One row per day of the period, days without usage included (as zeros)."""
    found = {
        row["day"]: _with_total(row)
        for row in _daily(f).values("day").annotate(**_TOTALS).order_by("day")
    }
    empty = dict.fromkeys(_TOTALS, 0) | {"cost": Decimal(0), "total_tokens": 0}
    return [found.get(day, {**empty, "day": day}) for day in f.days]


CSV_COLUMNS = ["day", "user", "groups", "provider", "model", *_TOTALS]


def usage_rows(f: UsageFilter, *, with_groups: bool = True) -> Iterator[list[Any]]:
    """Every daily total in the period, per user and model, for the CSV export: plain
    tuples, user names looked up once. Without `with_groups` the groups column is empty."""
    names = dict(User.objects.values_list("pk", "username"))
    groups = _group_names_by_user() if with_groups else {}
    rows = (
        _daily(f, per_user=True)
        .order_by("day", "user_id", "provider", "model")
        .values_list("day", "user_id", "provider", "model", *_TOTALS)
    )
    for day, user_id, provider, model, *counts, cost in rows.iterator(chunk_size=5000):
        cells = (names.get(user_id, ""), groups.get(user_id, ""), provider, model)
        yield [day.isoformat(), *map(_cell, cells), *counts, f"{cost or 0:f}"]


def _group_names_by_user() -> dict[int, str]:
    """Each user's groups, as the CSV shows them: names joined by "; "."""
    by_user: dict[int, list[str]] = {}
    memberships = User.groups.through.objects.values_list("user_id", "group__name")
    for user_id, name in memberships.order_by("group__name"):
        by_user.setdefault(user_id, []).append(name)
    return {user_id: "; ".join(names) for user_id, names in by_user.items()}


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def usage_models_seen() -> list[str]:
    """Models in the daily totals: the model filter's choices, without scanning the ledger."""
    models = UsageDailyModel.objects.order_by("model").values_list("model", flat=True)
    return list(models.distinct())
