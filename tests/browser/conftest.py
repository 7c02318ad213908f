"""chatsite served by a real daphne process, driven by Playwright in Debian's chromium."""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.servers import (
    FAKE_API_KEY,
    FakeUpstreamServer,
    site_env,
    site_manage,
    site_storage,
    start_site,
    stop,
)

# The flags this machine's page lists: headless, no sandbox as root, and no background
# traffic to hosts a closed network cannot reach.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# axe-core, from npm (package-lock.json), run in the page by the accessibility checks.
AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Run in the page: axe's violations, each with up to five of the elements it found.
AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""
PASSWORD = "alice-browser-password-1"
ASSISTANT = '.message[data-role="assistant"]'
CONTENT = f"{ASSISTANT} .message-content"
# The answer is being written and some of it is on the page already.
STREAMING_WITH_TEXT = """() => {
  const el = document.querySelector('.message[data-role="assistant"]');
  return el && el.dataset.status === 'streaming'
    && el.querySelector('.message-content').textContent.length > 0;
}"""


@dataclass
class Site:
    url: str
    env: dict[str, str]


@contextlib.contextmanager
def site_serving(
    fake: FakeUpstreamServer, storage: dict[str, str], *, port: int | None = None, **extra: str
) -> Iterator[Site]:
    """A migrated site on `storage` (site_storage's keys), with the admin alice, talking to
    the fake upstream, served by one process (on `port`, if given; with `extra` in its
    environment) until the block ends."""
    env = site_env(
        **storage,
        LLM_BASE_URL=fake.base_url,
        LLM_API_KEY=FAKE_API_KEY,
        LLM_MODEL="chatsite-demo",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        **extra,
    )
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    site_manage(
        env, "createsuperuser", "--noinput", "--username", "alice", "--email", "a@example.org"
    )
    process, port = start_site(env, port=port)
    try:
        yield Site(url=f"http://127.0.0.1:{port}", env=env)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def site(
    fake_upstream_server: FakeUpstreamServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    storage = site_storage(Path(tmp_path_factory.mktemp("site")))
    with site_serving(fake_upstream_server, storage) as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"Debian's chromium is not at {executable}: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, upstream: FakeUpstreamServer) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(f"{msg.text} ({msg.location.get('url')})")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def log_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")  # the header's language switch has a submit button too
    page.wait_for_url(f"{site.url}/")


@pytest.fixture
def open_page(browser: Browser, upstream: FakeUpstreamServer) -> Iterator[Any]:
    """A page in a context of its own (viewport, colour scheme, permissions…), checked
    like `page` for errors the page logged."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page(**context_options: Any) -> Page:
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], f"the page logged errors: {errors}"


def ask(page: Page, text: str) -> None:
    """Type a message in the composer and send it with Enter."""
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")


def axe_violations(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """The page's accessibility violations of these impacts as axe-core finds them now, one
    readable line each (empty when there are none). axe runs in the page through the
    debugging protocol, which the page's CSP does not govern."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text() + "\n;0")
    found = page.evaluate(AXE_RUN)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in found
        if v["impact"] in impacts
    ]
