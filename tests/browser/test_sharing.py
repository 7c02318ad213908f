"""Sharing as people do it: alice shares the answer on her page, bob opens the link and
sees it rendered like the chat page, continues it as his own; once alice stops sharing,
the link is gone."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ASSISTANT, PASSWORD, Site, log_in
from tests.servers import site_manage

pytestmark = pytest.mark.browser

READER = "bob-reader"


@pytest.fixture(scope="module")
def reader(site: Site) -> str:
    site_manage(
        site.env, "createsuperuser", "--noinput", "--username", READER, "--email", "b@example.org"
    )
    return READER


def test_a_shared_answer_is_read_continued_and_then_unshared(
    page: Page, browser: Browser, site: Site, upstream, reader: str
):
    log_in(page, site)
    upstream.plan(text="Here is **bold** and `code` <img src=x onerror=alert(1)>")
    page.fill("#composer-input", "Tell me something")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    page.click("#share-button")
    page.click("#share-create")
    link = page.locator("#share-link")
    expect(link).to_have_value(re.compile(r"/s/[\w-]{43,}/$"))
    url = link.input_value()
    page.click("#share-close")

    context = browser.new_context()
    bob = context.new_page()
    bob.set_default_timeout(15_000)
    bob.goto(url)
    bob.fill("#id_username", reader)
    bob.fill("#id_password", PASSWORD)
    bob.press("#id_password", "Enter")  # not the language switch's button
    bob.wait_for_url(url)
    answer = bob.locator(".message-assistant .message-content")
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer.locator("code")).to_have_text("code")
    expect(answer.locator("img")).to_have_count(0)
    expect(bob.locator(".message-user .message-content")).to_have_text("Tell me something")

    bob.click("#share-continue")
    expect(bob).to_have_url(re.compile(r"/c/\d+/$"))
    expect(bob.locator(ASSISTANT).last.locator("strong")).to_have_text("bold")
    expect(bob.locator("#conversation-list a")).to_have_count(1)

    page.goto(f"{site.url}/settings/data/")
    page.click("#shares button[type=submit]")
    expect(page.locator("#shares")).to_contain_text("You share no conversation")
    assert bob.request.get(url).status == 404
    context.close()
