import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, CONTENT, Site, log_in

pytestmark = pytest.mark.browser

USER = '.message[data-role="user"]'


def test_a_person_regenerates_flips_between_answers_and_edits_a_question(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=2)
    log_in(page, site)
    page.fill("#composer-input", "Tell me")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(CONTENT)).to_have_text("t0 t1 ")
    expect(page.locator(f"{ASSISTANT} .branch-nav")).to_be_hidden()

    upstream.plan(tokens=3)
    page.click(f"{ASSISTANT} .regenerate-button")
    expect(page.locator(CONTENT)).to_have_text("t0 t1 t2 ")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(f"{ASSISTANT} .branch-count")).to_have_text("2/2")
    assert upstream.log()[-1]["body"]["messages"] == [{"role": "user", "content": "Tell me"}]

    # Flipping back is live: the page is not reloaded (the marker survives).
    page.evaluate("window.notReloaded = true")
    page.click(f"{ASSISTANT} .branch-previous")
    expect(page.locator(CONTENT)).to_have_text("t0 t1 ")
    expect(page.locator(f"{ASSISTANT} .branch-count")).to_have_text("1/2")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator(ASSISTANT)).to_have_count(1)

    page.reload()
    expect(page.locator(CONTENT)).to_have_text("t0 t1 ")
    expect(page.locator(f"{ASSISTANT} .branch-count")).to_have_text("1/2")

    upstream.plan(tokens=1)
    page.click(f"{USER} .edit-button")
    page.fill(f"{USER} .edit-input", "Tell me more")
    page.click(f"{USER} .edit-send")
    expect(page.locator(f"{USER} .message-content")).to_have_text("Tell me more")
    expect(page.locator(CONTENT)).to_have_text("t0 ")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(f"{USER} .branch-count")).to_have_text("2/2")
    assert upstream.log()[-1]["body"]["messages"] == [{"role": "user", "content": "Tell me more"}]

    # The first version of the question still has its own two answers.
    page.click(f"{USER} .branch-previous")
    expect(page.locator(f"{USER} .message-content")).to_have_text("Tell me")
    expect(page.locator(CONTENT)).to_have_text("t0 t1 ")
    expect(page.locator(f"{ASSISTANT} .branch-count")).to_have_text("1/2")
