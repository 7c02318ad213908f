import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, STREAMING_WITH_TEXT, Site, log_in

pytestmark = pytest.mark.browser


def test_a_person_logs_in_watches_an_answer_stream_and_finds_it_after_reload(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=60, delay=0.03)
    log_in(page, site)
    page.fill("#composer-input", "Hello from the browser")
    page.keyboard.press("Enter")

    # Seen mid-stream: some text, and the answer still being written.
    page.wait_for_function(STREAMING_WITH_TEXT)
    partial = page.locator(f"{ASSISTANT} .message-content").text_content() or ""
    expect(page.locator("#stop-button")).to_be_visible()

    expected = "".join(f"t{i} " for i in range(60))
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    # Rendered as markdown: one paragraph, the same words.
    assert (page.locator(f"{ASSISTANT} .message-content").text_content() or "").strip() == (
        expected.strip()
    )
    assert 0 < len(partial) < len(expected), "the answer should have arrived in pieces"
    expect(page.locator("#send-button")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    expect(page.locator("#conversation-list a").first).to_have_text("Hello from the browser")

    page.reload()
    expect(page.locator('.message[data-role="user"] .message-content')).to_have_text(
        "Hello from the browser"
    )
    expect(page.locator(f"{ASSISTANT} .message-content")).to_have_text(expected.strip())
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")


def test_the_stop_button_stops_the_answer_upstream_and_it_stays_stopped(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=1000, delay=0.02)
    log_in(page, site)
    page.fill("#composer-input", "Count forever")
    page.click("#send-button")
    page.wait_for_function(STREAMING_WITH_TEXT)

    page.click("#stop-button")

    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "stopped")
    expect(page.locator(f"{ASSISTANT} .message-status")).to_have_text("Stopped.")
    stopped_text = (page.locator(f"{ASSISTANT} .message-content").text_content() or "").strip()
    entry = upstream.wait_for_outcome("disconnected")
    assert entry["outcome"] == "disconnected"
    assert entry["chunks_sent"] < 1000

    page.reload()
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "stopped")
    expect(page.locator(f"{ASSISTANT} .message-content")).to_have_text(stopped_text)


def test_a_second_conversation_appears_in_the_sidebar_newest_first(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    for text in ["First topic", "Second topic"]:
        upstream.plan(tokens=3)
        page.goto(f"{site.url}/")
        page.fill("#composer-input", text)
        page.keyboard.press("Enter")
        expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    titles = page.locator("#conversation-list a").all_text_contents()
    assert titles.index("Second topic") < titles.index("First topic")
    page.locator("#conversation-list a", has_text="First topic").click()
    expect(page.locator('.message[data-role="user"] .message-content')).to_have_text("First topic")
