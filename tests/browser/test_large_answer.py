"""An answer longer than a websocket message (1 MiB) reaches chromium whole: live, and
after a reload mid-answer, when its snapshot is over 1 MiB (both in `part` frames)."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, CONTENT, Site, log_in

pytestmark = pytest.mark.browser

PARAGRAPH = "y" * 998 + "\n\n"  # one piece for the fake upstream, one block for markdown
PIECES = 1300  # 1.3 million characters
LONGER_THAN_A_MESSAGE = f"""() => {{
  const el = document.querySelector('{CONTENT}');
  return el && el.textContent.length > 1100000;
}}"""


def shown(page: Page) -> str:
    return (page.locator(CONTENT).text_content() or "").replace("\n", "")


def test_an_answer_over_a_mebibyte_is_shown_whole_live_and_after_a_reload(
    page: Page, site: Site, upstream
):
    upstream.plan(text=PARAGRAPH * PIECES, delay=0.01)
    log_in(page, site)
    page.fill("#composer-input", "A very long answer, please")
    page.keyboard.press("Enter")
    page.wait_for_function(LONGER_THAN_A_MESSAGE, timeout=60_000)
    page.reload()  # the snapshot is over 1 MiB now
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete", timeout=60_000)
    assert shown(page) == "y" * 998 * PIECES
    assert upstream.log()[-1]["outcome"] == "complete"
