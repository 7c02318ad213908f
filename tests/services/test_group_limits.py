"""Groups carry limits and allowed models like a user: a member's own limit wins; else the
most generous of their groups'; else the site's default (README.md, "Limits")."""

import re
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation, GroupLimits, Message, ModelPrice, SiteSettings, UserLimits
from chat.services.usage.ledger import Price
from chat.services.usage.limits import LimitReached, limits_check, limits_for
from tests.conftest import usage_spent

pytestmark = pytest.mark.django_db


def group_with(members, name: str = "Research", **limits) -> Group:
    group = Group.objects.create(name=name)
    group.user_set.add(*members)
    GroupLimits.objects.create(group=group, **limits)  # forgotten by the cache at once
    return group


def test_a_group_s_limit_applies_to_its_members_only(alice, bob):
    group_with([alice], monthly_tokens=100)
    usage_spent(alice, prompt=80, completion=30)
    usage_spent(bob, prompt=80, completion=30)

    with pytest.raises(LimitReached):
        limits_check(alice)
    limits_check(bob)  # not a member: no limit
    assert limits_for(bob).monthly_tokens is None


def test_a_member_s_own_limit_wins_over_the_group_s(alice):
    group_with([alice], monthly_tokens=100)
    UserLimits.objects.create(user=alice, monthly_tokens=1_000)
    usage_spent(alice, prompt=80, completion=30)

    assert limits_for(alice).monthly_tokens == 1_000
    limits_check(alice)


def test_the_most_generous_of_several_groups_applies(alice):
    group_with([alice], "Small", monthly_tokens=100, monthly_cost=Decimal("5"))
    group_with([alice], "Large", monthly_tokens=5_000, requests_per_minute=3)

    limits = limits_for(alice)
    assert limits.monthly_tokens == 5_000
    assert limits.monthly_cost == Decimal("5"), "only one group sets a budget"
    assert limits.requests_per_minute == 3


def test_the_site_default_applies_where_no_group_sets_a_limit(alice):
    SiteSettings(monthly_tokens=42, concurrent_generations=2).save()
    group_with([alice], monthly_cost=Decimal("1"))

    limits = limits_for(alice)
    assert (limits.monthly_tokens, limits.concurrent_generations) == (42, 2)
    assert limits.monthly_cost == Decimal("1")


def test_a_member_may_choose_any_model_one_of_their_groups_allows(alice):
    group_with([alice], "A", allowed_models=["model-a"])
    group_with([alice], "B", allowed_models=["model-b", "model-a"])

    assert limits_check(alice).allowed_models == ["model-a", "model-b"]


def test_a_member_s_own_model_list_wins_over_the_groups(alice):
    group_with([alice], allowed_models=["model-a"])
    UserLimits.objects.create(user=alice, allowed_models=["model-z"])

    assert limits_check(alice).allowed_models == ["model-z"]


def test_a_group_s_models_narrow_what_a_member_may_send_to(alice, upstream):
    from chat.services.answers.sending import message_send
    from chat.services.providers import ModelNotAllowed

    group_with([alice], allowed_models=["chatsite-demo-large"])
    with pytest.raises(ModelNotAllowed):
        message_send(user=alice, conversation_id=None, content="hi", model="chatsite-demo")
    sent = message_send(user=alice, conversation_id=None, content="hi", model="chatsite-demo-large")
    assert sent.conversation.model == "chatsite-demo-large"


def test_the_model_picker_offers_what_the_groups_allow(alice, upstream):
    group_with([alice], allowed_models=["chatsite-demo-large"])
    client = Client()
    client.force_login(alice)

    offered = client.get(reverse("chat:models")).json()
    assert [m["model"] for m in offered["models"]] == ["chatsite-demo-large"]


def test_an_admin_sets_a_group_s_limits_on_the_group_s_page(admin_client, alice):
    group = Group.objects.create(name="Research")
    page = admin_client.get(reverse("admin:auth_group_change", args=[group.pk]))
    assert b"monthly_tokens" in page.content

    response = admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {
            "name": "Research",
            "limits-TOTAL_FORMS": "1",
            "limits-INITIAL_FORMS": "0",
            "limits-MIN_NUM_FORMS": "0",
            "limits-MAX_NUM_FORMS": "1",
            "limits-0-monthly_tokens": "250",
            "limits-0-allowed_models": "model-a\nmodel-b",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = GroupLimits.objects.get(group=group)
    assert (saved.monthly_tokens, saved.allowed_models) == (250, ["model-a", "model-b"])


def test_the_user_s_admin_page_says_where_each_limit_comes_from(admin_client, alice):
    SiteSettings(requests_per_minute=10).save()
    group_with([alice], "Research", monthly_tokens=5_000)
    UserLimits.objects.create(user=alice, concurrent_generations=1)

    page = admin_client.get(reverse("admin:chat_user_change", args=[alice.pk])).content.decode()
    rows = dict(
        (name, (value.strip(), source))
        for name, value, source in re.findall(
            r'<tr><th scope="row">([A-Za-z ]+)</th>\s*<td>([^<]*)(?:<div[^>]*><span[^>]*>'
            r'</span></div>)?</td>\s*<td class="source">([^<]*)</td></tr>',
            page,
        )
    )
    assert rows == {
        "Tokens a month": (
            "0 of 5,000",
            "the group Research (the most generous of the user&#x27;s groups)",
        ),
        "Cost a month": ("no limit", "set nowhere"),
        "Requests a minute": ("10", "the site&#x27;s default"),
        "Answers at once": ("1", "this user&#x27;s own limit"),
    }
    assert 'value="' + str(Group.objects.get(name="Research").pk) + '" selected' in page


def test_a_team_budget_refuses_every_member_once_the_members_used_it_together(alice, bob):
    from chat.models import User

    carol = User.objects.create_user(username="carol", password="carol-password-1")
    group_with([alice, bob], "Research", team_monthly_tokens=1_000)
    usage_spent(alice, prompt=300, completion=100)
    usage_spent(bob, prompt=300, completion=200)
    limits_check(alice)  # 900 of 1,000 used: each member may still send
    usage_spent(bob, prompt=100, completion=0)

    for member in (alice, bob):
        with pytest.raises(
            LimitReached, match="Your group Research has used 1,000 tokens this month, of its 1,000"
        ):
            limits_check(member)
    limits_check(carol)  # not a member: untouched by the team's budget


def test_a_team_cost_budget_counts_money_and_refuses_unpriced_models(alice, bob):
    group_with([alice, bob], "Research", team_monthly_cost=Decimal("2"))
    assert limits_check(alice).cost_limited is True, "unpriced models are refused"
    usage_spent(alice, prompt=1_000_000, completion=0, price=Price(input=Decimal("1.5")))
    limits_check(bob)
    usage_spent(bob, prompt=1_000_000, completion=0, price=Price(input=Decimal("0.5")))

    with pytest.raises(LimitReached, match=r"budget of 2\.00"):
        limits_check(bob)


def test_the_groups_page_shows_the_team_budget_used_this_month(admin_client, alice):
    group_with([alice], "Research", team_monthly_tokens=1_000)
    usage_spent(alice, prompt=120, completion=30)

    page = admin_client.get(reverse("admin:auth_group_changelist")).content.decode()
    assert "150 of 1,000 tokens" in page


def test_a_member_s_usage_line_says_what_is_left_of_the_team_budget(alice, bob):
    group_with([alice, bob], team_monthly_tokens=1_000)
    usage_spent(alice, prompt=300, completion=100)
    usage_spent(bob, prompt=100, completion=100)
    client = Client()
    client.force_login(alice)

    usage = client.get(reverse("chat:usage")).json()

    assert usage["teams"] == [{"group": "Research", "tokens_left": 400, "cost_left": None}]
    assert "team Research: 400 of 1,000 tokens left" in usage["line"]


def answer_in_flight(user, *, model: str = "chatsite-demo", stale: bool = False) -> None:
    conversation = Conversation.objects.create(user=user, provider="default", model=model)
    answer = Message.objects.create(
        conversation=conversation, role="assistant", status="streaming", model=model
    )
    if stale:
        Message.objects.filter(pk=answer.pk).update(updated_at=timezone.now() - timedelta(hours=1))


def test_what_is_left_of_a_team_budget_is_held_by_the_members_answers_in_flight(
    alice, bob, settings
):
    settings.BUDGET_HOLD_TOKENS = 200
    group_with([alice, bob], team_monthly_tokens=1_000)
    usage_spent(bob, prompt=500, completion=100)  # 400 left
    answer_in_flight(bob)
    limits_check(alice)  # 600 used + 200 held: 200 still free

    answer_in_flight(bob)

    with pytest.raises(LimitReached, match=r"your group Research's budget .* held by 2 answers"):
        limits_check(alice)


def test_an_answer_its_dead_process_left_streaming_holds_nothing(alice, bob, settings):
    settings.BUDGET_HOLD_TOKENS = 200
    group_with([alice, bob], team_monthly_tokens=1_000)
    usage_spent(bob, prompt=500, completion=100)
    answer_in_flight(bob, stale=True)
    answer_in_flight(bob, stale=True)

    limits_check(alice)


def test_answers_in_flight_hold_a_team_cost_budget_at_their_model_s_price(alice, bob, settings):
    settings.BUDGET_HOLD_TOKENS = 4_000
    ModelPrice.objects.create(model="chatsite-demo", output_per_million=Decimal("100"))
    group_with([alice, bob], team_monthly_cost=Decimal("1.00"))
    answer_in_flight(bob)  # holds 0.40
    answer_in_flight(alice)  # 0.80
    limits_check(alice)

    answer_in_flight(bob)  # 1.20 of 1.00

    with pytest.raises(LimitReached, match="held by 3 answers"):
        limits_check(alice)


@pytest.mark.django_db(transaction=True)
def test_members_sends_are_counted_one_after_another_under_a_team_budget(alice, bob):
    """On PostgreSQL a send's check holds the team's row until its answer is saved: a
    member's check waits for another's (SQLite has one writer at a time anyway)."""
    if connection.vendor != "postgresql":
        pytest.skip("the row lock is PostgreSQL's; SQLite's transactions are serial anyway")
    group_with([alice, bob], team_monthly_tokens=1_000)
    first_checked, release = threading.Event(), threading.Event()
    waited: list[float] = []

    def first() -> None:
        with transaction.atomic():
            limits_check(alice, lock=True)
            first_checked.set()
            release.wait(10)
        connections.close_all()

    def second() -> None:
        first_checked.wait(10)
        started = time.monotonic()
        with transaction.atomic():
            limits_check(bob, lock=True)
        waited.append(time.monotonic() - started)
        connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    release.set()
    for thread in threads:
        thread.join(20)

    assert waited, "the second check never finished"
    assert waited[0] >= 0.3, f"bob's check did not wait for alice's ({waited[0]:.3f} s)"
