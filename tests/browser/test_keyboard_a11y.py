"""The chat page by keyboard and by screen reader: Enter sends, Shift+Enter adds a line,
Escape stops; focus goes where a person expects; answers are announced once, politely;
every control has a name."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, CONTENT, STREAMING_WITH_TEXT, Site, ask, log_in

pytestmark = pytest.mark.browser

# Roles a person operates: each must have a name for a screen reader to say.
CONTROL_ROLES = ("button", "link", "textbox", "checkbox", "combobox", "radio", "switch", "tab")


def test_enter_sends_shift_enter_adds_a_line_and_focus_stays_in_the_box(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=40, delay=0.02)
    log_in(page, site)
    box = page.get_by_role("textbox", name="Message")
    box.click()
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    assert box.input_value() == "line one\nline two"
    expect(page.locator(".message")).to_have_count(0)

    page.keyboard.press("Enter")

    question = page.locator('.message[data-role="user"] .message-content')
    expect(question).to_contain_text("line two")
    assert question.inner_text().strip() == "line one\nline two"
    expect(box).to_have_value("")
    page.wait_for_function(STREAMING_WITH_TEXT)
    expect(box).to_be_focused()
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(box).to_be_focused()


def test_escape_stops_the_answer_from_anywhere_and_focus_returns_to_the_box(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=1000, delay=0.02)
    log_in(page, site)
    ask(page, "Count for a long time")
    page.wait_for_function(STREAMING_WITH_TEXT)
    page.locator("#conversation-list a").first.focus()  # reading the sidebar, say

    page.keyboard.press("Escape")

    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "stopped")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    assert upstream.wait_for_outcome("disconnected")["outcome"] == "disconnected"


def test_escape_in_an_open_dialog_closes_the_dialog_and_leaves_the_answer_going(
    page: Page, site: Site, upstream
):
    upstream.plan(tokens=1000, delay=0.02)
    log_in(page, site)
    ask(page, "Count while I change settings")
    page.wait_for_function(STREAMING_WITH_TEXT)
    page.click("#settings-button")
    dialog = page.locator("#settings-dialog")
    expect(dialog).to_be_visible()

    page.keyboard.press("Escape")

    expect(dialog).to_be_hidden()
    assert page.locator(ASSISTANT).get_attribute("data-status") == "streaming"
    page.keyboard.press("Escape")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "stopped")


def test_the_send_and_stop_buttons_hand_focus_back_to_the_box(page: Page, site: Site, upstream):
    upstream.plan(tokens=1000, delay=0.02)
    log_in(page, site)
    box = page.get_by_role("textbox", name="Message")
    box.fill("Clicked, not typed")

    page.get_by_role("button", name="Send").click()
    page.wait_for_function(STREAMING_WITH_TEXT)
    expect(box).to_be_focused()

    page.get_by_role("button", name="Stop").click()
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "stopped")
    expect(box).to_be_focused()


def test_an_answer_that_ends_leaves_focus_where_the_person_is_reading(
    page: Page, site: Site, upstream
):
    upstream.plan(text="See [the docs](https://example.org/docs) first.\n")
    log_in(page, site)
    ask(page, "Where are the docs?")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    upstream.plan(tokens=60, delay=0.02)
    ask(page, "And then?")
    page.wait_for_function(
        "() => document.querySelectorAll('.message[data-status=streaming]').length === 1"
    )

    docs = page.get_by_role("link", name="the docs", exact=True)
    docs.focus()
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")

    expect(docs).to_be_focused()


def test_an_answer_is_announced_politely_once_when_it_is_done(page: Page, site: Site, upstream):
    upstream.plan(tokens=60, delay=0.02)
    log_in(page, site)
    announcer = page.locator("#announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    page.evaluate(
        """() => {
        window.announcements = [];
        const region = document.getElementById('announcer');
        new MutationObserver(() => window.announcements.push(region.textContent))
          .observe(region, { childList: true, subtree: true, characterData: true });
    }"""
    )
    ask(page, "Tell me")
    page.wait_for_function(STREAMING_WITH_TEXT)
    # While it is written: busy, and nothing said yet.
    expect(page.locator(ASSISTANT)).to_have_attribute("aria-busy", "true")
    assert page.evaluate("window.announcements") == []

    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(ASSISTANT)).to_have_attribute("aria-busy", "false")
    expected = "Answer: " + " ".join(f"t{i}" for i in range(60))
    assert page.evaluate("window.announcements") == [expected]


def unnamed_controls(page: Page) -> list[str]:
    """The lines of the page's accessibility tree that are controls without a name."""
    tree = page.locator("body").aria_snapshot()
    pattern = re.compile(rf"^\s*- ({'|'.join(CONTROL_ROLES)})\b(?!\s+\")")
    return [line for line in tree.splitlines() if pattern.match(line)]


def test_every_control_on_the_page_has_a_name(page: Page, site: Site, upstream):
    upstream.plan(
        text="Code:\n\n```python\nprint('hi')\n```\n\nSee [the docs](https://example.org).\n",
        reasoning=3,
        tool_calls=[{"name": "lookup", "arguments": "{}"}],
    )
    log_in(page, site)
    ask(page, "Everything at once")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    for role, name in [
        ("textbox", "Message"),
        ("button", "Send"),
        ("button", "Copy code"),
        ("button", "Log out"),
        ("link", "New chat"),
        ("link", "the docs"),
        ("link", "Everything at once"),
    ]:
        expect(page.get_by_role(role, name=name, exact=True)).to_be_visible()
    expect(page.locator(f"{ASSISTANT} details.reasoning summary")).to_have_text(
        re.compile(r"^Thought")
    )
    assert unnamed_controls(page) == []
    # The announcement said the answer, not the code block's buttons.
    expect(page.locator("#announcer")).to_have_text("Answer: Code: print('hi') See the docs.")

    # And while an answer is being written, with its Stop button.
    upstream.plan(tokens=500, delay=0.02)
    ask(page, "More")
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_visible()
    assert unnamed_controls(page) == []
    assert page.locator(f"{CONTENT}").count() == 2
