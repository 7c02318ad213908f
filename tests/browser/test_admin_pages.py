"""The admin pages chatsite adds or changes (the index with its dashboard card, the usage
dashboard, the usage list, a user's page) in a real browser: light and dark, wide and
phone, checked with axe-core, and the dashboard one click from the index and a user."""

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, ask, axe_violations, log_in

pytestmark = pytest.mark.browser

SIZES = {"wide": {"width": 1440, "height": 900}, "phone": {"width": 375, "height": 740}}
# Where each page's screenshot goes, to be looked at (admin-<page>-<scheme>-<size>.png).
SCREENSHOTS = Path(tempfile.gettempdir())
PAGES = {
    "index": "/admin/",
    "dashboard": "/admin/chat/usage/dashboard/",
    "usage-list": "/admin/chat/usage/",
    "user-list": "/admin/chat/user/",
}


@pytest.fixture
def with_usage(open_page: Any, site: Site, upstream: Any) -> None:
    """alice asked something, so the dashboard has bars, rows and a model."""
    page = open_page()
    log_in(page, site)
    upstream.plan(tokens=30)
    ask(page, "Something for the admin's charts")
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    page.close()


def _alice_page(page: Page, site: Site) -> str:
    """The URL of alice's page in the admin, found from the user list."""
    page.goto(f"{site.url}/admin/chat/user/")
    page.locator("#result_list").get_by_role("link", name="alice", exact=True).click()
    expect(page.locator(".usage-summary")).to_be_visible()
    return page.url


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_admin_pages_have_no_serious_accessibility_violations(
    open_page: Any, site: Site, with_usage: None, scheme: str, size: str
):
    page = open_page(viewport=SIZES[size])
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    log_in(page, site)
    pages = {**PAGES, "user": _alice_page(page, site).removeprefix(site.url)}
    for name, path in pages.items():
        page.goto(f"{site.url}{path}")
        expect(page.locator("#content")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"admin-{name}-{scheme}-{size}.png", full_page=True)
        found = axe_violations(page)
        assert found == [], f"{name} ({scheme}, {size}):\n" + "\n".join(found)


def test_the_dashboard_is_one_click_from_the_index_and_from_a_user(
    page: Page, site: Site, with_usage: None
):
    log_in(page, site)
    page.goto(f"{site.url}/admin/")
    page.locator(".usage-card").get_by_role("link", name="Usage dashboard").click()
    expect(page.locator("h1")).to_have_text("Usage dashboard")
    # The charts are drawn, with their numbers also in tables.
    expect(page.locator('.dash-chart svg[role="img"] title').first).to_have_text("Tokens per day")
    expect(page.locator(".dash-rank").first.locator("text.name")).to_contain_text(["chatsite-demo"])

    _alice_page(page, site)
    # Usage and limits come before the generic fields.
    summary = page.locator(".usage-summary").bounding_box()
    first_fieldset = page.locator("fieldset.module").first.bounding_box()
    assert summary
    assert first_fieldset
    assert summary["y"] < first_fieldset["y"]
    expect(page.locator("#limits-in-force")).to_contain_text("Tokens a month")
    assert int(page.locator('[data-month="tokens"]').inner_text().replace(",", "")) >= 30

    page.locator(".object-tools").get_by_role("link", name="Usage dashboard").click()
    expect(page).to_have_url(re.compile(r"/admin/chat/usage/dashboard/\?user=alice$"))
    expect(page.locator("#by-user tbody tr")).to_have_count(1)
    expect(page.locator('#by-user tr[data-user="alice"]')).to_be_visible()


def test_the_usage_list_keeps_each_model_name_on_one_line(
    open_page: Any, site: Site, with_usage: None
):
    page = open_page(viewport=SIZES["phone"])
    log_in(page, site)
    page.goto(f"{site.url}/admin/chat/usage/")
    cell = page.locator("#result_list td.field-model").first
    expect(cell).to_have_text(re.compile("chatsite-demo"))
    lines = cell.evaluate(
        """td => { const r = document.createRange(); r.selectNodeContents(td);
                   return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"""
    )
    assert lines == 1
