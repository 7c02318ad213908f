"""The chat page on a phone-sized screen, and in the system's light or dark theme."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ASSISTANT, Site, ask, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
WIDE_ANSWER = (
    "A table and a long line of code must scroll inside the answer, not widen the page.\n\n"
    "| " + " | ".join(f"column {i}" for i in range(12)) + " |\n"
    "|" + "---|" * 12 + "\n"
    "| " + " | ".join(f"value {i}" for i in range(12)) + " |\n\n"
    "```python\nprint('" + "x" * 300 + "')\n```\n"
)
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_on_a_phone_the_sidebar_folds_away_behind_a_button(open_page, site: Site, upstream):
    page = open_page(viewport=PHONE)
    upstream.plan(text=WIDE_ANSWER)
    log_in(page, site)
    toggle = page.get_by_role("button", name="Conversations")
    sidebar = page.get_by_role("navigation", name="Conversations")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sidebar).to_be_hidden()

    ask(page, "Something wide")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_in_viewport()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the page scrolls sideways"
    # Share, Settings and More on the toolbar; the rest in the More menu, opened here.
    page.get_by_role("button", name="More").click()
    controls = page.locator("#chat-toolbar").locator("button:visible, a:visible, select:visible")
    assert controls.count() >= 10
    for index in range(controls.count()):
        expect(controls.nth(index)).to_be_in_viewport(ratio=1)

    page.keyboard.press("Escape")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_role("link", name="Something wide")).to_be_in_viewport()

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sidebar).to_be_hidden()

    # Like a drawer: the focus goes in, Escape closes it from anywhere, and so does a tap
    # on the dimmed page beside it.
    toggle.click()
    expect(sidebar.locator(":focus")).to_have_count(1)
    toggle.focus()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    expect(sidebar).to_be_visible()
    page.mouse.click(PHONE["width"] - 10, PHONE["height"] // 2)
    expect(sidebar).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_on_a_wide_screen_the_sidebar_is_always_there(open_page, site: Site):
    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, site)
    expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()
    expect(page.get_by_role("button", name="Conversations")).to_be_hidden()


def test_the_page_follows_the_systems_light_or_dark_theme(open_page, site: Site, upstream):
    colours = {}
    for scheme in ("light", "dark"):
        page = open_page(color_scheme=scheme)
        upstream.plan(text="```python\nprint('hi')\n```\n")
        log_in(page, site)
        ask(page, f"In {scheme}")
        expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
        colours[scheme] = page.evaluate(
            """() => ['body', '.code-block', '.hljs-built_in'].map(
              (selector) => {
                const style = getComputedStyle(document.querySelector(selector));
                return [style.backgroundColor, style.color];
              })"""
        )

    (light_body, light_code, light_keyword) = colours["light"]
    (dark_body, dark_code, dark_keyword) = colours["dark"]
    assert light_body[0] != dark_body[0], "the background follows the theme"
    assert light_body[1] != dark_body[1], "so does the text"
    assert light_code[0] != dark_code[0], "and code blocks"
    assert light_keyword[1] != dark_keyword[1], "and the highlighting theme"
