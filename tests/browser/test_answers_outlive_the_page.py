import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ASSISTANT, CONTENT, STREAMING_WITH_TEXT, Site, log_in

pytestmark = pytest.mark.browser

EXPECTED = "".join(f"t{i} " for i in range(150))


def test_reloading_mid_answer_shows_the_text_so_far_and_it_continues_live(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=150, delay=0.03)
    log_in(page, site)
    page.fill("#composer-input", "A long answer, please")
    page.keyboard.press("Enter")
    page.wait_for_function(STREAMING_WITH_TEXT)
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))

    page.reload()

    page.wait_for_function(STREAMING_WITH_TEXT)
    samples = []
    while page.locator(ASSISTANT).get_attribute("data-status") == "streaming":
        samples.append(page.locator(CONTENT).text_content() or "")
        page.wait_for_timeout(100)
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    # Rendered as markdown: one paragraph, the same words.
    assert (page.locator(CONTENT).text_content() or "").strip() == EXPECTED.strip()
    assert len(samples) >= 3, "the answer should have kept streaming after the reload"
    for text in samples:
        assert EXPECTED.startswith(text.strip()), f"gap or duplicate in {text[-40:]!r}"
    assert len(set(samples)) > 1, "the text should have grown live"
    expect(page.locator("#stop-button")).to_be_hidden()


def test_closing_the_page_mid_answer_loses_nothing(
    browser: Browser, page: Page, site: Site, upstream
):
    upstream.plan(tokens=150, delay=0.02)
    log_in(page, site)
    page.fill("#composer-input", "Write while I am away")
    page.keyboard.press("Enter")
    page.wait_for_function(STREAMING_WITH_TEXT)
    page.wait_for_url(re.compile(r"/c/\d+/$"))
    conversation_url = page.url
    page.context.close()  # the tab is gone mid-answer

    assert upstream.wait_for_outcome("complete", timeout=20)["outcome"] == "complete"
    later = browser.new_context().new_page()
    log_in(later, site)
    later.goto(conversation_url)
    expect(later.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    assert (later.locator(CONTENT).text_content() or "").strip() == EXPECTED.strip()
    later.context.close()


def test_the_page_says_when_the_provider_is_retried_and_when_an_answer_was_cut(
    page: Page, site: Site, upstream
):
    upstream.plan(status=429, retry_after="1.5", error_message="Rate limit reached")
    upstream.plan(tokens=5, finish_reason="length")
    log_in(page, site)
    page.fill("#composer-input", "Hello")
    page.keyboard.press("Enter")

    expect(page.locator(f"{ASSISTANT} .message-status")).to_contain_text("Trying again in 1.5 s")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(f"{ASSISTANT} .message-status")).to_have_text(
        "Cut short: the answer reached its length limit."
    )
