"""The database stops while a page is open: what was typed stays in the box until the
server has saved it, and is there to send again once the database is back."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, PASSWORD, Site, log_in
from tests.pgcluster import PostgresCluster
from tests.servers import FAKE_API_KEY, FakeUpstreamServer, site_env, site_manage, start_site, stop

pytestmark = pytest.mark.browser

TEXT = "Please keep this text: the database is down"


@pytest.fixture
def site_on_own_database(fake_upstream_server: FakeUpstreamServer) -> Iterator[Site]:
    """One server process on a PostgreSQL cluster this test may stop and start."""
    cluster = PostgresCluster()
    env = site_env(
        DATABASE_URL=cluster.url,
        REDIS_URL="",  # one process: the in-process channel layer
        LLM_BASE_URL=fake_upstream_server.base_url,
        LLM_API_KEY=FAKE_API_KEY,
        LLM_MODEL="chatsite-demo",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    site_manage(
        env, "createsuperuser", "--noinput", "--username", "alice", "--email", "a@example.org"
    )
    process, port = start_site(env)
    site = Site(url=f"http://127.0.0.1:{port}", env=env)
    site.cluster = cluster  # type: ignore[attr-defined]
    yield site
    stop(process)
    cluster.close()


def test_a_message_sent_while_the_database_is_down_stays_in_the_box(
    site_on_own_database: Site, page: Page
):
    # The site is asked for first so that it stops last: the page is closed before its
    # server goes, or its reconnecting socket would log refused connections.
    site = site_on_own_database
    log_in(page, site)
    box = page.locator("#composer-input")
    page.wait_for_load_state("networkidle")  # the model list and the socket are in

    site.cluster.stop()  # type: ignore[attr-defined]
    try:
        box.fill(TEXT)
        box.press("Enter")
        expect(box).to_have_value(TEXT)  # not emptied on sending: nothing is saved yet
        notice = page.locator("#notice")
        expect(notice).to_contain_text("not saved", timeout=15_000)
        expect(box).to_have_value(TEXT)
        expect(page.locator('.message[data-role="user"]')).to_have_count(0)
    finally:
        site.cluster.start()  # type: ignore[attr-defined]

    box.press("Enter")  # the same text, sent again
    expect(page.locator('.message[data-role="user"] .message-content')).to_have_text(TEXT)
    expect(box).to_have_value("")  # emptied once the server saved it
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
