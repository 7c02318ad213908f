"""Redis restarts, empty, while chromium shows an answer being written: the page is told
to resubscribe (4503), reconnects, and shows the whole answer, never a gap."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ASSISTANT,
    CONTENT,
    STREAMING_WITH_TEXT,
    Site,
    log_in,
    site_serving,
)
from tests.servers import FakeUpstreamServer, RedisServer, site_storage

pytestmark = pytest.mark.browser

EXPECTED = "".join(f"t{i} " for i in range(300))


@pytest.fixture
def redis_site(
    fake_upstream_server: FakeUpstreamServer, tmp_path: Path
) -> Iterator[tuple[Site, RedisServer]]:
    redis = RedisServer(tmp_path)
    # site_storage names the shared Redis on the services pass: this site has its own.
    storage = {**site_storage(tmp_path), "REDIS_URL": redis.url}
    try:
        with site_serving(fake_upstream_server, storage) as site:
            yield site, redis
    finally:
        redis.stop()


def test_an_answer_written_across_a_redis_restart_is_shown_whole_without_a_gap(
    redis_site: tuple[Site, RedisServer], page: Page, upstream
):  # the site is set up first, so the page is closed before the site stops
    site, redis = redis_site
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    upstream.plan(tokens=300, delay=0.03)
    log_in(page, site)
    page.fill("#composer-input", "A long answer, please")
    page.keyboard.press("Enter")
    page.wait_for_function(STREAMING_WITH_TEXT)

    redis.stop()
    page.wait_for_timeout(3000)
    redis.start()

    samples = []
    while page.locator(ASSISTANT).get_attribute("data-status") == "streaming":
        samples.append((page.locator(CONTENT).text_content() or "").strip())
        page.wait_for_timeout(100)
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    assert (page.locator(CONTENT).text_content() or "").strip() == EXPECTED.strip()
    assert len(sockets) == 2, "the page reconnected once, when Redis was back"
    for text in samples:
        assert EXPECTED.startswith(text), f"a gap was shown: {text[-40:]!r}"
    assert len(set(samples)) > 3, "the answer kept streaming after Redis returned"
    expect(page.locator(".message")).to_have_count(2)  # the question and the answer
