"""The database stops while a page is open: what was typed stays in the box until the
server has saved it, and is there to send again once the database is back."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, log_in, site_serving
from tests.pgcluster import PostgresCluster
from tests.servers import FakeUpstreamServer

pytestmark = pytest.mark.browser

TEXT = "Please keep this text: the database is down"


@pytest.fixture
def site_on_own_database(
    fake_upstream_server: FakeUpstreamServer,
) -> Iterator[tuple[Site, PostgresCluster]]:
    """One server process on a PostgreSQL cluster this test may stop and start."""
    cluster = PostgresCluster()
    # One process: the in-process channel layer.
    storage = {"DATABASE_URL": cluster.url, "REDIS_URL": ""}
    try:
        with site_serving(fake_upstream_server, storage) as site:
            yield site, cluster
    finally:
        cluster.close()


def test_a_message_sent_while_the_database_is_down_stays_in_the_box(
    site_on_own_database: tuple[Site, PostgresCluster], page: Page
):
    # The site is asked for first so that it stops last: the page is closed before its
    # server goes, or its reconnecting socket would log refused connections.
    site, cluster = site_on_own_database
    log_in(page, site)
    box = page.locator("#composer-input")
    page.wait_for_load_state("networkidle")  # the model list and the socket are in

    cluster.stop()
    try:
        box.fill(TEXT)
        box.press("Enter")
        expect(box).to_have_value(TEXT)  # not emptied on sending: nothing is saved yet
        notice = page.locator("#notice")
        expect(notice).to_contain_text("not saved", timeout=15_000)
        expect(box).to_have_value(TEXT)
        expect(page.locator('.message[data-role="user"]')).to_have_count(0)
    finally:
        cluster.start()

    box.press("Enter")  # the same text, sent again
    expect(page.locator('.message[data-role="user"] .message-content')).to_have_text(TEXT)
    expect(box).to_have_value("")  # emptied once the server saved it
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
