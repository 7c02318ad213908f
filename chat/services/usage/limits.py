"""Budgets and limits: checked before anything goes upstream, with a message saying which
limit was hit and when it resets. An answer that crosses a limit mid-way finishes; the
next request is refused."""

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import DecimalField, Field, ForeignObjectRel, JSONField, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext

from chat.caching import Expiring
from chat.models import (
    ApiCall,
    GroupLimits,
    Message,
    SiteSettings,
    UsageDaily,
    User,
    UserLimits,
)
from chat.services.answers.heartbeat import STALE_STREAM_AFTER
from chat.services.usage.ledger import UsageCounts, price_get
from chat.texts import number


class LimitReached(Exception):
    def __init__(self, message: str, resets_at: datetime.datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.resets_at = resets_at


class AccountInactive(Exception):
    """The account was deactivated after this socket signed in."""


@dataclass(frozen=True)
class Limits:
    monthly_tokens: int | None = None
    monthly_cost: Decimal | None = None
    requests_per_minute: int | None = None
    concurrent_generations: int | None = None


@dataclass(frozen=True)
class Allowance:
    """What a send may use, found by the limits check: the user's allowed models (empty:
    any offered) and whether a cost budget applies (then unpriced models are refused)."""

    allowed_models: list[str]
    cost_limited: bool = False


@dataclass(frozen=True)
class MonthUsage:
    tokens: int
    cost: Decimal
    requests: int
    resets_at: datetime.datetime


def _site_settings_load() -> SiteSettings:
    row, _ = SiteSettings.objects.get_or_create(
        pk=1, defaults={"signup_mode": settings.SIGNUP_MODE}
    )
    return row


# The site settings row is read on every send; an admin's change applies within 5 s.
_site_settings = Expiring(_site_settings_load, ttl=5.0)


def site_settings(*, fresh: bool = False) -> SiteSettings:
    return _site_settings.get(fresh=fresh)


def site_settings_forget() -> None:
    _site_settings.forget()


@dataclass(frozen=True)
class LimitInForce:
    """One limit a user lives under, and where it comes from (shown in the admin)."""

    # The limit's own type (an int, or a Decimal for money); None: no limit.
    value: Any
    source: str  # "own", "group", "site" or "" (set nowhere)
    group: str = ""  # the group's name, when a group sets it


def _limit_in_force(
    name: str, own: UserLimits | None, site: SiteSettings, groups: Sequence[GroupLimits]
) -> LimitInForce:
    """The rule, README.md's "Which limit applies": the user's own where set; else the
    most generous of those their groups set; else the site's default."""
    mine = getattr(own, name) if own else None
    if mine is not None:
        return LimitInForce(mine, "own")
    of_groups = [(getattr(g, name), g) for g in groups if getattr(g, name) is not None]
    if of_groups:
        value, most = max(of_groups, key=lambda pair: pair[0])
        return LimitInForce(value, "group", most.group.name)
    default = getattr(site, name)
    return LimitInForce(default, "site" if default is not None else "")


def limits_explained(user: User) -> dict[str, LimitInForce]:
    """Every limit the user lives under, by name, with where it comes from."""
    own, groups = _user_limits(user.pk)[1], group_limits_of(user.pk)
    return {f.name: _limit_in_force(f.name, own, site_settings(), groups) for f in fields(Limits)}


def limits_effective(
    user_limits: UserLimits | None, site: SiteSettings, groups: Sequence[GroupLimits] = ()
) -> Limits:
    """Each limit as _limit_in_force finds it (None: no limit)."""
    return Limits(
        **{f.name: _limit_in_force(f.name, user_limits, site, groups).value for f in fields(Limits)}
    )


def models_allowed(user_limits: UserLimits | None, groups: Sequence[GroupLimits] = ()) -> list[str]:
    """The models a user may choose (empty: every model offered): their own list where
    set; else every model any of their groups allows; else no restriction."""
    if user_limits is not None and user_limits.allowed_models:
        return list(user_limits.allowed_models)
    return sorted({model for group in groups for model in group.allowed_models})


def _groups_limited_load() -> bool:
    return GroupLimits.objects.exists()


# Whether any group has limits, read on every send: a site without them pays nothing
# more per send. An admin's change applies within 5 s (at once in its own process).
_groups_limited = Expiring(_groups_limited_load, ttl=5.0)


def group_limits_forget() -> None:
    _groups_limited.forget()


def group_limits_of(user_id: int) -> list[GroupLimits]:
    """The limits of every group the user is in: one small query, none while no group on
    the site has limits."""
    if not _groups_limited.get():
        return []
    return list(GroupLimits.objects.filter(group__user=user_id).select_related("group"))


def limits_for(user: User) -> Limits:
    return limits_effective(_user_limits(user.pk)[1], site_settings(), group_limits_of(user.pk))


def month_start(now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localdate(now).replace(day=1)


def month_resets_at(now: datetime.datetime | None = None) -> datetime.datetime:
    start = month_start(now)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(datetime.datetime.combine(following, datetime.time()))


def usage_this_month(user_id: int) -> MonthUsage:
    """From the daily totals: a handful of rows, whatever the size of the ledger."""
    return _month_usage(UsageDaily.objects.filter(user_id=user_id))


def _month_usage(daily: QuerySet[UsageDaily]) -> MonthUsage:
    totals = daily.filter(day__gte=month_start()).aggregate(
        prompt=Sum("prompt_tokens"),
        completion=Sum("completion_tokens"),
        cost=Sum("cost"),
        requests=Sum("requests"),
    )
    return MonthUsage(
        tokens=(totals["prompt"] or 0) + (totals["completion"] or 0),
        cost=Decimal(totals["cost"] or 0),
        requests=totals["requests"] or 0,
        resets_at=month_resets_at(),
    )


def _reset_text(when: datetime.datetime) -> str:
    # The reader's language's way of writing a date ("1. Dezember 2026", "2026年12月1日").
    return date_format(timezone.localtime(when), "DATE_FORMAT")


def _money(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, force_grouping=True)


@dataclass(frozen=True)
class Held:
    """What the answers being written (and API calls running) hold of a budget until
    their usage is recorded."""

    answers: int = 0  # how many are in flight, answers and API calls together
    tokens: int = 0
    cost: Decimal = Decimal(0)


def _answers_in_flight(answers: QuerySet[Message]) -> QuerySet[Message]:
    # An answer its dead process left streaming holds nothing.
    fresh = timezone.now() - STALE_STREAM_AFTER
    return answers.filter(
        role=Message.Role.ASSISTANT, status=Message.Status.STREAMING, updated_at__gte=fresh
    )


def _calls_in_flight(calls: QuerySet[ApiCall]) -> QuerySet[ApiCall]:
    # An API request its dead process left running holds nothing.
    fresh = timezone.now() - STALE_STREAM_AFTER
    return calls.filter(status=Message.Status.STREAMING, updated_at__gte=fresh)


def _held(answers: QuerySet[Message], calls: QuerySet[ApiCall]) -> Held:
    """Each answer being written, and each API request running, holds
    BUDGET_HOLD_TOKENS, and their cost at its model's output price."""
    flying = list(_answers_in_flight(answers).values_list("conversation__provider", "model"))
    flying += list(_calls_in_flight(calls).values_list("provider", "model"))
    hold = UsageCounts(prompt_tokens=0, completion_tokens=settings.BUDGET_HOLD_TOKENS)
    return Held(
        answers=len(flying),
        tokens=len(flying) * settings.BUDGET_HOLD_TOKENS,
        cost=sum((price_get(provider=p, model=m).cost(hold) for p, m in flying), start=Decimal(0)),
    )


def _team_rows_locked(groups: list[GroupLimits]) -> None:
    """Lock the rows of the groups with a team budget (PostgreSQL; SQLite's transactions
    are one writer at a time already), always in the same order: the sends of all members
    are then counted one after another, as one user's are under the lock on their row."""
    ids = sorted(group.pk for group in groups if _has_team_budget(group))
    if ids and connection.vendor == "postgresql":
        list(GroupLimits.objects.filter(pk__in=ids).order_by("pk").select_for_update())


def limits_check(user: User, *, lock: bool = False) -> Allowance:
    """Raise LimitReached (or AccountInactive) if this user may not start a request now;
    returns what the request may use (read in the same query).

    Queries only for the limits that are set: a site without limits pays one small read.
    With `lock` (inside the transaction that then saves the request's answer) that read
    also locks the user's row on PostgreSQL (FOR NO KEY UPDATE), so the sends of one user
    on any number of processes are counted one after another: none can pass on counts
    another is about to change. SQLite needs no lock: its transactions begin IMMEDIATE,
    one writer at a time.
    """
    active, own = _user_limits(user.pk, lock=lock)
    if not active:
        raise AccountInactive
    groups = group_limits_of(user.pk)
    if lock:
        _team_rows_locked(groups)
    limits = limits_effective(own, site_settings(), groups)
    mine = Message.objects.filter(conversation__user=user, role=Message.Role.ASSISTANT)
    my_calls = ApiCall.objects.filter(user=user)
    budgeted = limits.monthly_tokens is not None or limits.monthly_cost is not None
    # The user's answers and API calls in flight, read once for their budget's holds and
    # for answers at once; before the usage, so that an answer finishing in between is
    # counted twice (safe), never not at all.
    my_held = Held()
    if budgeted or limits.concurrent_generations is not None:
        my_held = _held(mine, my_calls)
    _budgets_check(user, limits, groups, my_held)
    if limits.requests_per_minute is not None:
        since = timezone.now() - datetime.timedelta(minutes=1)
        # Answers and API requests alike.
        recent = list(mine.filter(created_at__gte=since).values_list("created_at", flat=True))
        recent += my_calls.filter(created_at__gte=since).values_list("created_at", flat=True)
        if len(recent) >= limits.requests_per_minute:
            resets = min(recent) + datetime.timedelta(minutes=1)
            wait = max(1, round((resets - timezone.now()).total_seconds()))
            raise LimitReached(
                ngettext(
                    "You may send %(count)s message a minute; try again in %(wait)s s.",
                    "You may send %(count)s messages a minute; try again in %(wait)s s.",
                    limits.requests_per_minute,
                )
                % {"count": number(limits.requests_per_minute), "wait": number(wait)},
                resets,
            )
    # An answer its dead process left streaming does not count (_held leaves it out).
    if (
        limits.concurrent_generations is not None
        and my_held.answers >= limits.concurrent_generations
    ):
        raise LimitReached(
            ngettext(
                "You may have %(count)s answer being written at once; "
                "wait for it to finish or stop it.",
                "You may have %(count)s answers being written at once; "
                "wait for one to finish or stop it.",
                limits.concurrent_generations,
            )
            % {"count": number(limits.concurrent_generations)}
        )
    return Allowance(
        allowed_models=models_allowed(own, groups),
        # A cost budget applies, the user's or a team's: unpriced models are refused.
        cost_limited=limits.monthly_cost is not None
        or any(group.team_monthly_cost is not None for group in groups),
    )


def budget_check(user: User) -> None:
    """Raise LimitReached when the user's monthly budget, or a team's, is spent: for
    upstream work that is not an answer (a document's embeddings), which the other limits
    of answers (a minute's count, answers at once) do not bound."""
    _, own = _user_limits(user.pk)
    groups = group_limits_of(user.pk)
    limits = limits_effective(own, site_settings(), groups)
    held = Held()
    if limits.monthly_tokens is not None or limits.monthly_cost is not None:
        held = _held(
            Message.objects.filter(conversation__user=user, role=Message.Role.ASSISTANT),
            ApiCall.objects.filter(user=user),
        )
    _budgets_check(user, limits, groups, held)


def _budgets_check(user: User, limits: Limits, groups: list[GroupLimits], my_held: Held) -> None:
    """The user's monthly budget, then each of their teams' (each team's answers and calls
    in flight held against it)."""
    if limits.monthly_tokens is not None or limits.monthly_cost is not None:
        _month_budget_check(
            usage_this_month(user.pk),
            my_held,
            tokens=limits.monthly_tokens,
            cost=limits.monthly_cost,
            group=None,
        )
    for group in groups:
        if _has_team_budget(group):
            held = _held(
                Message.objects.filter(conversation__user__groups=group.group_id),
                ApiCall.objects.filter(user__groups=group.group_id),
            )
            _month_budget_check(
                team_usage_this_month(group.group_id),
                held,
                tokens=group.team_monthly_tokens,
                cost=group.team_monthly_cost,
                group=group.group.name,
            )


def team_usage_this_month(group_id: int) -> MonthUsage:
    """What the group's members (as they are now) have used together this month, from the
    daily totals."""
    return _month_usage(UsageDaily.objects.filter(user__groups=group_id))


def _month_budget_check(
    month: MonthUsage,
    held: Held,
    *,
    tokens: int | None,
    cost: Decimal | None,
    group: str | None,
) -> None:
    """Raise LimitReached once `month`'s usage has reached a monthly budget (the user's,
    or, with `group` named, a team's), or once what is left of it is held by the answers
    in flight. Each case is a whole sentence, for the user and for a group: translators
    get sentences, not pieces to join."""
    values = {
        "group": group,
        "date": _reset_text(month.resets_at),
        "count": number(held.answers),
        "used": number(month.tokens),
        "limit": number(tokens) if tokens is not None else "",
        "spent": _money(month.cost),
        "budget": _money(cost) if cost is not None else "",
    }
    used_up = (tokens is not None and month.tokens >= tokens) or (
        cost is not None and month.cost >= cost
    )
    held_up = (tokens is not None and month.tokens + held.tokens >= tokens) or (
        cost is not None and month.cost + held.cost >= cost
    )
    if held_up and not used_up:
        if group is None:
            text = ngettext(
                "What is left of your budget for this month is held by %(count)s answer "
                "being written; try again when it finishes.",
                "What is left of your budget for this month is held by %(count)s answers "
                "being written; try again when they finish.",
                held.answers,
            )
        else:
            text = ngettext(
                "What is left of your group %(group)s's budget for this month is held by "
                "%(count)s answer being written; try again when it finishes.",
                "What is left of your group %(group)s's budget for this month is held by "
                "%(count)s answers being written; try again when they finish.",
                held.answers,
            )
        raise LimitReached(text % values)
    if tokens is not None and month.tokens >= tokens:
        if group is None:
            text = gettext(
                "You have used %(used)s tokens this month, of your %(limit)s; "
                "the limit resets on %(date)s."
            )
        else:
            text = gettext(
                "Your group %(group)s has used %(used)s tokens this month, of its %(limit)s; "
                "the limit resets on %(date)s."
            )
        raise LimitReached(text % values, month.resets_at)
    if cost is not None and month.cost >= cost:
        if group is None:
            text = gettext(
                "You have spent %(spent)s this month, of your budget of %(budget)s; "
                "the limit resets on %(date)s."
            )
        else:
            text = gettext(
                "Your group %(group)s has spent %(spent)s this month, of its budget of "
                "%(budget)s; the limit resets on %(date)s."
            )
        raise LimitReached(text % values, month.resets_at)


@functools.cache
def _limit_columns() -> list[Field]:
    names = [*(f.name for f in fields(Limits)), "allowed_models"]
    return [_concrete(UserLimits._meta.get_field(name)) for name in names]


def _concrete(field: Field | ForeignObjectRel) -> Field:
    """A column of the table: what get_field finds for a limit's own name."""
    if not isinstance(field, Field):
        raise TypeError(f"{field} is a relation, not a column")
    return field


def _column(field: Field) -> str:
    # Set on every field of a model class; None only on a field not added to one.
    assert field.column is not None
    return field.column


@functools.cache
def _user_limits_sql(lock: bool = False) -> str:
    """Whether the user is active, and their own limits: one statement, built once. The
    ORM built this join anew before every answer, for a fifth of the send's CPU."""
    quote = connection.ops.quote_name
    users, limits = quote(User._meta.db_table), quote(UserLimits._meta.db_table)
    columns = ", ".join(f"l.{quote(_column(field))}" for field in _limit_columns())
    # Only quoted names from the models go into the text; the user id is a parameter.
    return (
        f"SELECT u.{quote('is_active')}, l.{quote('id')}, {columns} "  # noqa: S608
        f"FROM {users} u LEFT JOIN {limits} l ON l.{quote('user_id')} = u.{quote('id')} "
        f"WHERE u.{quote('id')} = %s"
        # Only the user's row (the limits' side of the outer join may be missing), and NO
        # KEY: sends of the user queue behind each other, but the usage rows that other
        # transactions insert (whose foreign key share-locks the user) do not wait.
        + (" FOR NO KEY UPDATE OF u" if lock and connection.vendor == "postgresql" else "")
    )


def _user_limits(user_id: int, *, lock: bool = False) -> tuple[bool, UserLimits | None]:
    """Whether the user exists and is active, and their own limits if they have any."""
    with connection.cursor() as cursor:
        cursor.execute(_user_limits_sql(lock), [user_id])
        row = cursor.fetchone()
    if row is None:
        return False, None
    if row[1] is None:
        return bool(row[0]), None
    values = zip(_limit_columns(), row[2:], strict=True)
    own = UserLimits(user_id=user_id, **{field.name: _from_db(field, v) for field, v in values})
    return bool(row[0]), own


def _from_db(field: Field, value: Any) -> Any:
    """A raw column value as the model has it (JSON text parsed, SQLite's floats made
    Decimal)."""
    if value is None:
        return None
    if isinstance(field, JSONField):
        # Read as the ORM reads the column: through the field's own column expression.
        return field.from_db_value(
            value, field.cached_col, connection
        )  # no expression: a raw column
    if isinstance(field, DecimalField):
        return field.to_python(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    return field.to_python(value)


@dataclass(frozen=True)
class BudgetUse:
    """A month's use of budgets (a user's or a team's) and what is left of them."""

    tokens: int
    cost: Decimal
    token_limit: int | None
    cost_limit: Decimal | None

    @property
    def tokens_left(self) -> int | None:
        return None if self.token_limit is None else max(self.token_limit - self.tokens, 0)

    @property
    def cost_left(self) -> Decimal | None:
        return None if self.cost_limit is None else max(self.cost_limit - self.cost, Decimal(0))


@dataclass(frozen=True)
class TeamSummary(BudgetUse):
    """What a user sees of a team budget of one of their groups."""

    group: str = ""


@dataclass(frozen=True, kw_only=True)
class UsageSummary(BudgetUse):
    """What a user sees of their own usage, and of their groups' team budgets."""

    requests: int
    resets_at: datetime.datetime
    teams: tuple[TeamSummary, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "tokens": self.tokens,
            "cost": str(self.cost.quantize(Decimal("0.0001"))),
            "requests": self.requests,
            "resets_at": self.resets_at.isoformat(),
            "token_limit": self.token_limit,
            "tokens_left": self.tokens_left,
            "cost_limit": None if self.cost_limit is None else str(self.cost_limit),
            "cost_left": None if self.cost_left is None else str(self.cost_left),
            "teams": [
                {
                    "group": team.group,
                    "tokens_left": team.tokens_left,
                    "cost_left": None if team.cost_left is None else str(team.cost_left),
                }
                for team in self.teams
            ],
        }


def usage_summary(user: User) -> UsageSummary:
    month = usage_this_month(user.pk)
    limits = limits_for(user)
    return UsageSummary(
        tokens=month.tokens,
        cost=month.cost,
        requests=month.requests,
        resets_at=month.resets_at,
        token_limit=limits.monthly_tokens,
        cost_limit=limits.monthly_cost,
        teams=tuple(
            _team_summary(group) for group in group_limits_of(user.pk) if _has_team_budget(group)
        ),
    )


def _has_team_budget(group: GroupLimits) -> bool:
    return group.team_monthly_tokens is not None or group.team_monthly_cost is not None


def _team_summary(group: GroupLimits) -> TeamSummary:
    month = team_usage_this_month(group.group_id)
    return TeamSummary(
        group=group.group.name,
        tokens=month.tokens,
        cost=month.cost,
        token_limit=group.team_monthly_tokens,
        cost_limit=group.team_monthly_cost,
    )
