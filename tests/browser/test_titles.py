from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, PASSWORD, Site, log_in
from tests.servers import FAKE_API_KEY, site_env, site_manage, site_storage, start_site, stop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def titled_site(fake_upstream_server, tmp_path_factory) -> Iterator[Site]:
    """A second site, the only one whose first answers are followed by a title request."""
    storage = site_storage(Path(tmp_path_factory.mktemp("titled-site")))
    if "REDIS_URL" in storage:
        # Not the other site's Redis database: both number their conversations from 1.
        storage["REDIS_URL"] = storage["REDIS_URL"].rsplit("/", 1)[0] + "/2"
    env = site_env(
        **storage,
        LLM_BASE_URL=fake_upstream_server.base_url,
        LLM_API_KEY=FAKE_API_KEY,
        LLM_MODEL="chatsite-demo",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        CHAT_AUTO_TITLES="1",
    )
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    site_manage(
        env, "createsuperuser", "--noinput", "--username", "alice", "--email", "a@example.org"
    )
    process, port = start_site(env)
    yield Site(url=f"http://127.0.0.1:{port}", env=env)
    stop(process)


def test_the_models_title_reaches_the_sidebar_and_the_tab_live(
    page: Page, titled_site: Site, upstream
):
    upstream.plan(tokens=4)
    upstream.plan(tokens=3)  # the title: "t0 t1 t2"
    log_in(page, titled_site)
    page.fill("#composer-input", "What should this conversation be called?")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    page.evaluate("window.notReloaded = true")

    link = page.locator("#conversation-list a").first
    expect(link).to_have_text("t0 t1 t2")
    expect(page).to_have_title("t0 t1 t2 · chatsite")
    assert page.evaluate("window.notReloaded") is True
    title_request = upstream.log()[1]["body"]
    assert "What should this conversation be called?" in title_request["messages"][1]["content"]


def test_when_the_title_request_fails_the_first_words_stay(page: Page, titled_site: Site, upstream):
    upstream.plan(tokens=2)
    upstream.plan(status=503)
    log_in(page, titled_site)
    page.fill("#composer-input", "Keep my words as the title")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    upstream.wait_for_outcome("rejected")
    assert len(upstream.log()) == 2
    page.reload()
    expect(page.locator("#conversation-list a").first).to_have_text("Keep my words as the title")
