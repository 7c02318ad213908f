"""The admin pages chatsite changes, as the server renders them: the dashboard on the
index and on a user's page, a user's usage and limits before the generic fields, the
dashboard's charts, and the texts in the admin's language."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from chat.models import GroupLimits, UserLimits

pytestmark = pytest.mark.django_db


def test_the_index_links_to_the_usage_dashboard(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'id="usage-dashboard-link" href="{reverse("admin:chat_usage_dashboard")}"' in page
    # Before the list of models.
    assert page.index("usage-dashboard-link") < page.index('class="app-')


def test_a_users_page_opens_with_their_usage_and_limits(admin_client, ledger, alice):
    UserLimits.objects.create(user=alice, monthly_tokens=1000)
    research = Group.objects.create(name="Research")
    research.user_set.add(alice)
    GroupLimits.objects.create(group=research, monthly_tokens=5000, team_monthly_tokens=9000)
    response = admin_client.get(reverse("admin:chat_user_change", args=[alice.pk]))
    page = response.content.decode()
    summary = response.context["usage_summary"]
    assert summary["month_tokens"] == 175
    limits = {row.name: row for row in summary["limits"]}
    assert limits["Tokens a month"].text == "175 of 1,000"
    assert limits["Tokens a month"].percent == 18
    assert limits["Tokens a month"].source == "this user's own limit"
    assert limits["Requests a minute"].text == "no limit"
    assert [g.name for g in summary["groups"]] == ["Research"]
    assert summary["groups"][0].team_used.tokens == 175
    # The dashboard narrowed to alice, from her page.
    assert f'href="{reverse("admin:chat_usage_dashboard")}?user=alice"' in page
    # Usage and limits, then her own limits' form, then Django's fields.
    assert page.index("usage-summary") < page.index('id="limits-group"') < page.index("id_username")
    assert "9,000 tokens" in page


def test_the_user_list_links_each_users_tokens_to_the_dashboard(admin_client, ledger):
    page = admin_client.get(reverse("admin:chat_user_changelist")).content.decode()
    dashboard = reverse("admin:chat_usage_dashboard")
    assert (
        f'<a href="{dashboard}?user=alice" aria-label="175 tokens: the usage dashboard">175</a>'
        in page
    )


def test_a_new_users_page_has_no_usage_panel(admin_client):
    response = admin_client.get(reverse("admin:chat_user_add"))
    assert "usage-summary" not in response.content.decode()


def test_the_dashboard_draws_its_charts(admin_client, ledger):
    page = admin_client.get(reverse("admin:chat_usage_dashboard"), {"period": "7d"})
    html = page.content.decode()
    assert html.count('<svg class="chart-svg" role="img"') == 4
    assert html.count('<rect class="bar"') == 7 + 7 + 2 + 2  # tokens, cost per day; models; users
    assert "Tokens per model" in html
    assert "Tokens per user" in html


def test_an_empty_period_says_so(admin_client):
    html = admin_client.get(reverse("admin:chat_usage_dashboard")).content.decode()
    assert "chart-svg" not in html
    assert html.count("No usage in this period.") >= 4


def test_the_dashboard_speaks_the_admins_language(admin_client, ledger):
    page = admin_client.get(
        reverse("admin:chat_usage_dashboard"), {"period": "7d"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert page.context["LANGUAGE_CODE"] == "de"
    # Django's own German for its own texts, and dates as German writes them.
    html = page.content.decode()
    assert ">Start</a>" in html
    assert re.search(r"<time datetime=\"[\d-]+\">\d{1,2}\. \w+ \d{4}</time>", html)
