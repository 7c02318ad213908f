"""What a user's admin page shows before its fields: this month's usage (figures and a
chart per day), each limit in force with how much of it is used, and the limits of the
groups they are in, with a link to the dashboard narrowed to them."""

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.admin.charts import day_bars, format_number
from chat.admin.reports import UsageFilter, usage_by_day
from chat.models import GroupLimits, User
from chat.services.usage.limits import (
    MonthUsage,
    limits_explained,
    month_start,
    team_usage_this_month,
    usage_this_month,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Each limit's name on the page, in the order it shows them.
LIMIT_NAMES: dict[str, "StrOrPromise"] = {
    "monthly_tokens": gettext_lazy("Tokens a month"),
    "monthly_cost": gettext_lazy("Cost a month"),
    "requests_per_minute": gettext_lazy("Requests a minute"),
    "concurrent_generations": gettext_lazy("Answers at once"),
}


@dataclass(frozen=True)
class LimitRow:
    name: str
    text: str  # its value, with this month's use for the monthly limits ("5 of 100")
    source: str  # where it comes from, in words
    percent: int | None = None  # of the limit used, capped at 100 for the meter
    over: bool = False


@dataclass(frozen=True)
class GroupRow:
    name: str
    url: str  # the group's admin page
    limits: GroupLimits | None
    team_used: MonthUsage | None  # for a group with a team budget


def _source(source: str, group: str) -> str:
    if source == "own":
        return _("this user's own limit")
    if source == "group":
        return _("the group %(group)s (the most generous of the user's groups)") % {"group": group}
    if source == "site":
        return _("the site's default")
    return _("set nowhere")


def _share(used: Any, limit: Any) -> tuple[int | None, bool]:
    if limit is None or used is None:
        return None, False
    if not limit:
        return 100, bool(used)
    share = float(used) / float(limit) * 100
    return min(100, round(share)), share >= 100


def _amount(value: Any) -> str:
    """A limit or a use, as the language writes it: money with two decimals."""
    return format_number(value, 2 if isinstance(value, Decimal) else 0)


def _limit_text(value: Any, used: Any) -> str:
    if value is None:
        return _("no limit")
    if used is None:
        return _amount(value)
    return _("%(used)s of %(limit)s") % {"used": _amount(used), "limit": _amount(value)}


def limit_rows(user: User, month: MonthUsage) -> list[LimitRow]:
    """Each limit in force, the monthly ones with this month's use beside them."""
    explained = limits_explained(user)
    used: dict[str, Any] = {"monthly_tokens": month.tokens, "monthly_cost": month.cost}
    rows = []
    for key, name in LIMIT_NAMES.items():
        limit = explained[key]
        percent, over = _share(used.get(key), limit.value)
        rows.append(
            LimitRow(
                name=str(name),
                text=_limit_text(limit.value, used.get(key)),
                source=_source(limit.source, limit.group),
                percent=percent,
                over=over,
            )
        )
    return rows


def group_rows(user: User) -> list[GroupRow]:
    groups = Group.objects.filter(user=user.pk).select_related("limits").order_by("name")
    rows = []
    for group in groups:
        limits: GroupLimits | None = getattr(group, "limits", None)
        team = limits is not None and (
            limits.team_monthly_tokens is not None or limits.team_monthly_cost is not None
        )
        rows.append(
            GroupRow(
                name=group.name,
                url=reverse("admin:auth_group_change", args=[group.pk]),
                limits=limits,
                team_used=team_usage_this_month(group.pk) if team else None,
            )
        )
    return rows


def dashboard_url_for(user: User) -> str:
    """The usage dashboard narrowed to this user (its filter is by user name)."""
    return f"{reverse('admin:chat_usage_dashboard')}?{urlencode({'user': user.get_username()})}"


def month_chart(user: User) -> SafeString:
    days = usage_by_day(UsageFilter(start=month_start(), end=timezone.localdate(), user_id=user.pk))
    return day_bars(
        [(day["day"], day["total_tokens"]) for day in days],
        title=_("Tokens per day this month"),
        value_name=_("Tokens"),
        empty_text=_("No usage this month."),
        css_class="dash-chart",
    )


def user_summary(user: User) -> dict[str, Any]:
    """The context of the panel at the top of a user's page."""
    month = usage_this_month(user.pk)
    return {
        "month": month,
        "month_tokens": month.tokens,
        "month_cost": month.cost or Decimal(0),
        "month_chart": month_chart(user),
        "limits": limit_rows(user, month),
        "groups": group_rows(user),
        "dashboard_url": dashboard_url_for(user),
    }
