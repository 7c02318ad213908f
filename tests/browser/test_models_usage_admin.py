"""The model picker, the user's own usage and limits, and the admin's usage dashboard,
in a real browser."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, log_in
from tests.servers import site_manage

pytestmark = pytest.mark.browser


def _ask(page: Page, text: str) -> None:
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")


def _set_alice_tokens_limit(site: Site, tokens: int | None) -> None:
    site_manage(
        site.env,
        "shell",
        "-c",
        "from chat.models import User, UserLimits; "
        "UserLimits.objects.update_or_create(user=User.objects.get(username='alice'), "
        f"defaults={{'monthly_tokens': {tokens!r}}})",
    )


def test_a_person_picks_a_model_and_the_answer_comes_from_it(page: Page, site: Site, upstream):
    log_in(page, site)
    picker = page.get_by_role("combobox", name="Model")
    expect(picker).to_be_enabled()
    expect(picker.locator("option")).to_have_text(["chatsite-demo", "chatsite-demo-large"])
    picker.select_option(label="chatsite-demo-large")
    _ask(page, "Which model are you?")
    assert upstream.log()[-1]["body"]["model"] == "chatsite-demo-large"

    # The conversation remembers its model.
    page.reload()
    expect(page.get_by_role("combobox", name="Model")).to_have_value("1")
    page.get_by_role("button", name="Refresh the model list").click()
    expect(page.get_by_role("combobox", name="Model")).to_be_enabled()


def test_a_person_sees_their_usage_and_a_refused_send_keeps_their_text(
    page: Page, site: Site, upstream
):
    _set_alice_tokens_limit(site, None)
    log_in(page, site)
    usage = page.locator("#my-usage")
    before = int(re.match(r"([\d,]+) tokens", usage.text_content()).group(1).replace(",", ""))
    upstream.plan(tokens=25)
    _ask(page, "Spend some tokens")
    # The server writes 1797, the page's script 1,797: either is the old count.
    expect(usage).not_to_have_text(re.compile(rf"^({before:,}|{before}) tokens"))
    after = int(re.match(r"([\d,]+) tokens", usage.text_content()).group(1).replace(",", ""))
    assert after >= before + 25

    _set_alice_tokens_limit(site, after)
    try:
        page.reload()
        expect(usage).to_contain_text("0 of")
        page.fill("#composer-input", "One more, please")
        page.keyboard.press("Enter")
        expect(page.locator("#notice")).to_contain_text("tokens this month, of your")
        expect(page.locator("#composer-input")).to_have_value("One more, please")
    finally:
        _set_alice_tokens_limit(site, None)


def test_an_admin_reads_the_usage_dashboard_drills_down_and_exports(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    upstream.plan(tokens=12)
    _ask(page, "Something for the ledger")
    page.goto(f"{site.url}/admin/chat/usage/")
    page.get_by_role("link", name="Usage dashboard").click()
    expect(page.locator("h1")).to_have_text("Usage dashboard")
    expect(page.locator('[data-total="requests"]')).not_to_have_text("0")
    expect(page.locator(".dash-chart").first.locator("rect")).to_have_count(30)
    alice_row = page.locator('#by-user tr[data-user="alice"]')
    expect(alice_row).to_be_visible()
    expect(page.locator('#by-model tr[data-model="chatsite-demo"]')).to_be_visible()

    page.get_by_label("Period").select_option("today")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".dash-chart").first.locator("rect")).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert any(r["user"] == "alice" and int(r["completion_tokens"]) >= 12 for r in rows)

    alice_row = page.locator('#by-user tr[data-user="alice"]')
    alice_row.get_by_role("link", name="Show requests").click()
    expect(page).to_have_url(re.compile(r"/admin/chat/usage/\?user__id__exact=\d+"))
    expect(page.locator("#result_list tbody tr").first).to_contain_text("alice")
