"""The page mends a gap in an answer's deltas at once, by asking for a snapshot, instead
of waiting for the done frame. A delta is dropped on its way to the page (Playwright's
websocket routing); the server and its frames are real."""

import json

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import ASSISTANT, CONTENT, Site, log_in

pytestmark = pytest.mark.browser

EXPECTED = "".join(f"t{i} " for i in range(200))


def test_a_gap_in_the_deltas_is_mended_by_a_snapshot_before_the_answer_ends(
    page: Page, site: Site, upstream
):
    events: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            events.append(f"page:{frame['type']}")
            server.send(message)

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "delta" and frame["seq"] == 3:
                events.append("dropped:3")
                return
            if frame["type"] in ("snapshot", "done"):
                events.append(f"server:{frame['type']}")
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket("**/ws/chat/", route)
    upstream.plan(tokens=200, delay=0.03)
    log_in(page, site)
    page.fill("#composer-input", "A long answer, please")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.message[data-status=\"streaming\"]')")
    samples = []
    while page.locator(ASSISTANT).get_attribute("data-status") == "streaming":
        samples.append((page.locator(CONTENT).text_content() or "").strip())
        page.wait_for_timeout(100)
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    assert (page.locator(CONTENT).text_content() or "").strip() == EXPECTED.strip()
    after = events[events.index("dropped:3") :]
    assert after[:3] == ["dropped:3", "page:subscribe", "server:snapshot"], after
    assert after[-1] == "server:done"
    for text in samples:
        assert EXPECTED.startswith(text), f"a gap was shown: {text[-40:]!r}"
