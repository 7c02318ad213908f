"""Budgets and limits: checked before the upstream call, with a message that says which
limit was hit and when it resets."""

import datetime
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from chat.models import Conversation, Message, SiteSettings, UsageDaily, UserLimits
from chat.services.usage.ledger import Price
from chat.services.usage.limits import (
    AccountInactive,
    Allowance,
    LimitReached,
    limits_check,
    month_resets_at,
    usage_summary,
)
from tests.conftest import generations_settle, usage_spent
from tests.websocket import connect, receive_until


def _site_limits(**limits) -> None:
    SiteSettings(**limits).save()  # forgotten by the cache at once (chat/signals.py)


def _used(user, prompt: int, completion: int, cost: str = "0") -> None:
    price = Price(input=Decimal(cost) * 1_000_000 / max(prompt, 1))
    usage_spent(user, prompt=prompt, completion=completion, price=price)


@pytest.mark.django_db
class TestLimitsCheck:
    def test_a_user_without_limits_may_always_send(self, alice):
        _used(alice, 10**9, 10**9)
        assert limits_check(alice) == Allowance(allowed_models=[], cost_limited=False)
        assert usage_summary(alice).tokens == 2 * 10**9, "the usage was counted, not lost"

    def test_the_site_default_monthly_tokens_refuse_once_used_up(self, alice):
        _site_limits(monthly_tokens=1000)
        _used(alice, 600, 300)
        limits_check(alice)
        _used(alice, 50, 50)
        with pytest.raises(LimitReached) as refused:
            limits_check(alice)
        assert "used 1,000 tokens this month, of your 1,000" in refused.value.message
        assert refused.value.resets_at == month_resets_at()
        # The date as the reader's language writes it ("Dec. 1, 2026" in English).
        when = date_format(timezone.localtime(month_resets_at()), "DATE_FORMAT")
        assert f"resets on {when}." in refused.value.message

    def test_the_refusal_is_written_in_the_readers_language(self, alice):
        _site_limits(monthly_tokens=1000)
        _used(alice, 1500, 732)
        with translation.override("de"), pytest.raises(LimitReached) as refused:
            limits_check(alice)
        # German groups thousands with a dot, and writes its own date; the sentence
        # itself stays English until the translators have written the German catalogue.
        assert "2.232" in refused.value.message
        with translation.override("de"):
            when = date_format(timezone.localtime(month_resets_at()), "DATE_FORMAT")
        assert when in refused.value.message

    def test_a_users_own_limit_overrides_the_site_default(self, alice, bob):
        _site_limits(monthly_tokens=100)
        UserLimits.objects.create(user=alice, monthly_tokens=10_000)
        _used(alice, 500, 0)
        _used(bob, 500, 0)
        limits_check(alice)
        with pytest.raises(LimitReached):
            limits_check(bob)

    def test_a_users_own_limits_and_models_are_read_as_saved(self, alice):
        UserLimits.objects.create(
            user=alice, monthly_cost=Decimal("2.50"), allowed_models=["a", "b/c"]
        )
        allowance = limits_check(alice)
        assert allowance.allowed_models == ["a", "b/c"]
        assert allowance.cost_limited

    def test_a_site_without_limits_pays_one_query_per_send(self, alice, django_assert_num_queries):
        limits_check(alice)  # the site settings, cached for a few seconds
        with django_assert_num_queries(1):
            assert limits_check(alice).allowed_models == []

    def test_the_refusal_says_how_much_was_used_of_how_much(self, alice):
        _site_limits(monthly_tokens=100)
        _used(alice, 2000, 232)

        with pytest.raises(LimitReached) as refused:
            limits_check(alice)

        assert refused.value.message.startswith(
            "You have used 2,232 tokens this month, of your 100;"
        )

    def test_usage_of_last_month_does_not_count(self, alice):
        _site_limits(monthly_tokens=100)
        _used(alice, 500, 0)
        with pytest.raises(LimitReached):
            limits_check(alice)  # this month, it counts
        last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        UsageDaily.objects.update(day=last_month)
        assert limits_check(alice) == Allowance(allowed_models=[])
        assert usage_summary(alice).tokens == 0

    def test_a_monthly_cost_budget(self, alice):
        UserLimits.objects.create(user=alice, monthly_cost=Decimal("2.50"))
        _used(alice, 1000, 0, cost="2.49")
        limits_check(alice)
        _used(alice, 1000, 0, cost="0.02")
        with pytest.raises(LimitReached) as refused:
            limits_check(alice)
        assert "You have spent 2.51 this month, of your budget of 2.50" in refused.value.message

    def test_a_free_model_may_be_used_under_a_cost_budget(self, upstream, alice):
        from chat.models import ModelPrice
        from chat.services.answers.sending import message_send

        UserLimits.objects.create(user=alice, monthly_cost=Decimal(5))
        ModelPrice.objects.create(model="chatsite-demo", input_per_million=0)

        sent = message_send(user=alice, conversation_id=None, content="hi")
        assert sent.conversation_created, "a price of 0 is free, not unpriced"

    def test_requests_per_minute(self, alice):
        UserLimits.objects.create(user=alice, requests_per_minute=2)
        conversation = Conversation.objects.create(user=alice)
        for _ in range(2):
            Message.objects.create(conversation=conversation, role="assistant")
        with pytest.raises(LimitReached) as refused:
            limits_check(alice)
        assert "2 messages a minute" in refused.value.message
        Message.objects.update(created_at=timezone.now() - datetime.timedelta(seconds=61))
        limits_check(alice)

    def test_concurrent_generations(self, alice):
        _site_limits(concurrent_generations=1)
        conversation = Conversation.objects.create(user=alice)
        Message.objects.create(conversation=conversation, role="assistant", status="streaming")
        with pytest.raises(LimitReached) as refused:
            limits_check(alice)
        assert "1 answer being written at once" in refused.value.message

    def test_a_deactivated_account_may_not_send(self, alice):
        alice.is_active = False
        alice.save()
        with pytest.raises(AccountInactive):
            limits_check(alice)

    def test_users_see_their_usage_and_what_is_left(self, alice):
        UserLimits.objects.create(user=alice, monthly_tokens=1000)
        _used(alice, 300, 100)
        summary = usage_summary(alice)
        assert (summary.tokens, summary.tokens_left, summary.requests) == (400, 600, 1)
        assert summary.as_json()["tokens_left"] == 600


@pytest.mark.django_db(transaction=True)
class TestLimitsOverTheSocket:
    async def test_a_send_over_the_limit_gets_a_clear_error_and_saves_nothing(
        self, upstream, alice
    ):
        await UserLimits.objects.acreate(user=alice, monthly_tokens=10)
        await sync_to_async(_used)(alice, 10, 0)
        ws = await connect(alice)
        await ws.send_json_to({"type": "send", "content": "one more"})
        frame = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        assert frame["type"] == "error"
        assert frame["code"] == "limit_reached"
        assert "tokens this month, of your 10;" in frame["message"]
        assert not await Message.objects.filter(conversation__user=alice).aexists()
        assert upstream.log() == []

    async def test_an_answer_crossing_the_limit_finishes_and_the_next_is_refused(
        self, upstream, alice
    ):
        await UserLimits.objects.acreate(user=alice, monthly_tokens=20)
        upstream.plan(tokens=40)
        ws = await connect(alice)
        await ws.send_json_to({"type": "send", "content": "a long one"})
        frames = await receive_until(ws, "done")
        conversation_id = frames[0]["conversation"]["id"]
        done = frames[-1]
        assert done["status"] == "complete"
        assert done["usage"]["completion_tokens"] == 40
        await ws.send_json_to(
            {"type": "send", "conversation_id": conversation_id, "content": "again"}
        )
        refused = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        await generations_settle()
        assert refused["code"] == "limit_reached"
        assert len(upstream.log()) == 1

    async def test_a_deactivated_users_open_socket_is_closed_on_send(self, upstream, alice):
        ws = await connect(alice)
        alice.is_active = False
        await alice.asave()
        await ws.send_json_to({"type": "send", "content": "still here?"})
        closed = await ws.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4403}
        assert upstream.log() == []


@pytest.mark.django_db
def test_an_answer_left_by_a_dead_process_does_not_count_as_running(alice):
    _site_limits(concurrent_generations=1)
    conversation = Conversation.objects.create(user=alice)
    Message.objects.create(conversation=conversation, role="assistant", status="streaming")
    with pytest.raises(LimitReached):
        limits_check(alice)  # while its process lives, it counts
    Message.objects.update(updated_at=timezone.now() - datetime.timedelta(minutes=5))
    assert limits_check(alice) == Allowance(allowed_models=[])


def test_what_is_left_of_a_user_s_budget_is_held_by_their_answers_in_flight(alice, settings):
    settings.BUDGET_HOLD_TOKENS = 300
    UserLimits.objects.create(user=alice, monthly_tokens=1_000)
    usage_spent(alice, prompt=400, completion=100)  # 500 left
    conversation = Conversation.objects.create(user=alice)
    Message.objects.create(conversation=conversation, role="assistant", status="streaming")
    limits_check(alice)  # 500 used + 300 held: 200 still free

    Message.objects.create(
        conversation=Conversation.objects.create(user=alice), role="assistant", status="streaming"
    )

    with pytest.raises(LimitReached, match="your budget for this month is held by 2 answers"):
        limits_check(alice)


@pytest.mark.django_db
def test_the_usage_line_writes_numbers_and_its_date_the_reader_s_way(alice):
    _site_limits(monthly_tokens=10_000)
    _used(alice, 1500, 732)
    client = Client()
    client.force_login(alice)

    line = client.get(reverse("chat:usage"), HTTP_ACCEPT_LANGUAGE="de").json()["line"]

    assert "2.232" in line
    assert "10.000" in line
    with translation.override("de"):
        assert date_format(month_resets_at(), "MONTH_DAY_FORMAT") in line
