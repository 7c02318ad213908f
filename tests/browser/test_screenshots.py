"""The screenshots in docs/screenshots/, made from the site as it is (issue 20): the chat
page with an answer (light, dark, phone), the log-in page (light, dark), the admin's
usage dashboard and the projects page, each from a site of its own with the same
conversation and answer every time."""

import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ASSISTANT
from tests.browser.test_every_screen import (
    PHONE,
    WIDE,
    Screens,
    log_in,
    screens_data,
    screens_site,
)
from tests.servers import FakeUpstreamServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chat(page: Page, screens: Screens) -> None:
    page.goto(f"{screens.site.url}/c/{screens.data.conversation}/")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(f"{ASSISTANT} table")).to_be_visible()
    # The model list has come (not "Loading models…").
    expect(page.get_by_role("combobox", name="Model")).to_be_enabled()


def _visit(path: str) -> Callable[[Page, Screens], None]:
    def visit(page: Page, screens: Screens) -> None:
        response = page.goto(screens.site.url + path)
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"

    return visit


# name: (viewport, colour scheme, signed in, how the screen is reached)
SHOTS: dict[str, tuple[dict[str, int], str, bool, Callable[[Page, Screens], None]]] = {
    "chat-light": (WIDE, "light", True, _chat),
    "chat-dark": (WIDE, "dark", True, _chat),
    "chat-phone": (PHONE, "light", True, _chat),
    "login-light": (WIDE, "light", False, _visit("/accounts/login/")),
    "login-dark": (WIDE, "dark", False, _visit("/accounts/login/")),
    "admin-dashboard-light": (WIDE, "light", True, _visit("/admin/chat/usage/dashboard/")),
    "projects-light": (WIDE, "light", True, _visit("/projects/")),
}


@pytest.fixture(scope="module")
def screens(
    fake_upstream_server: FakeUpstreamServer,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Screens]:
    with screens_site(fake_upstream_server, tmp_path_factory.mktemp("screenshots")) as made:
        screens_data(made, browser, fake_upstream_server)
        yield made


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk (the first, right after the signature)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name} does not start with IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize("name", SHOTS)
def test_the_screenshot_in_docs_is_made_from_the_site(
    browser: Browser, screens: Screens, name: str
):
    viewport, scheme, signed_in, open_screen = SHOTS[name]
    context = browser.new_context(viewport=viewport, color_scheme=scheme, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        if signed_in:
            log_in(page, screens.site)
        open_screen(page, screens)
        page.wait_for_load_state("load")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        path = SCREENSHOTS / f"{name}.png"
        path.unlink(missing_ok=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, animations="disabled", caret="hide")
    finally:
        context.close()

    assert path.is_file(), f"{path} was not written"
    assert path.stat().st_size > 10_000, f"{path.name} is {path.stat().st_size} bytes: blank?"
    assert png_size(path) == (viewport["width"], viewport["height"])
