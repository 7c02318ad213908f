"""The pages around the chat (sign-in, sign-up, password pages, projects, a project, your
data, API keys, a shared conversation), as people see them: in light and dark, on a phone
(375 by 740) and a wide screen (1440 by 900), with no serious accessibility violation and every
control on the screen and within reach. PAGES_SCREENSHOTS=dir saves a screenshot of each."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PASSWORD, Site, axe_violations, site_serving
from tests.servers import site_query, site_storage

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 375, "height": 740}, "wide": {"width": 1440, "height": 900}}
CONTROLS = ":is(button, a, input, select, textarea, summary):visible"
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
# What a user of a while has: a project with a conversation, a shared conversation, keys.
DATA = """
from django.contrib.auth import get_user_model
from chat.models import Message, Project
from chat.services.api.keys import api_key_create, api_key_revoke
from chat.services.conversations.lifecycle import conversation_create
from chat.services.conversations.sharing import share_create

alice = get_user_model().objects.get(username="alice")
project = Project.objects.create(user=alice, name="Trip to Lisbon", system_prompt="Be brief.")
conversation = conversation_create(user=alice, first_message="Where to eat", project=project)
asked = Message.objects.create(
    conversation=conversation, role="user", content="Where to eat near the river?"
)
Message.objects.create(
    conversation=conversation, role="assistant", parent=asked,
    content="Try **Time Out Market**: many stalls under one roof.",
)
share = share_create(user=alice, conversation_id=conversation.pk)
api_key_create(user=alice, name="laptop scripts", allowed_models=["chatsite-demo"])
old = api_key_create(user=alice, name="old key")
api_key_revoke(user=alice, key_id=old.key.pk)
result = {"project": project.pk, "share": share.token}
"""


@pytest.fixture(scope="module")
def pages_site(fake_upstream_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site where anyone may sign up and ask for a password reset, with alice's data."""
    storage = site_storage(Path(tmp_path_factory.mktemp("pages")))
    with site_serving(
        fake_upstream_server, storage, SIGNUP_MODE="open", PASSWORD_RESET_ENABLED="1"
    ) as site:
        yield site


@pytest.fixture(scope="module")
def made(pages_site: Site) -> dict[str, object]:
    return site_query(pages_site.env, DATA)


def sign_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/")


def within_reach(page: Page, controls: Locator, where: str) -> None:
    """Each of these controls can be scrolled to and is then wholly on the screen."""
    width = page.viewport_size["width"]
    assert controls.count() > 0, where
    for index in range(controls.count()):
        control = controls.nth(index)
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport()
        box = control.bounding_box()
        assert box is not None, where
        name = control.evaluate("(el) => el.outerHTML.slice(0, 120)")
        assert box["x"] >= 0, f"{where}: {name}"
        assert box["x"] + box["width"] <= width + 0.5, f"{where}: {name}"


def checked(page: Page, where: str) -> None:
    shot = os.environ.get("PAGES_SCREENSHOTS")
    if shot:
        page.screenshot(path=f"{shot}/pages-{where.replace(' ', '-')}.png", full_page=True)
    assert axe_violations(page) == [], where
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{where} scrolls sideways"
    within_reach(page, page.locator(CONTROLS), where)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_signed_out_pages_look_right_everywhere(open_page, pages_site: Site, scheme, size):
    page = open_page(viewport=SIZES[size])
    page.emulate_media(color_scheme=scheme)
    for name, path in [
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
        ("password-reset", "/accounts/password/reset/"),
    ]:
        page.goto(f"{pages_site.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator(".auth-brand")).to_have_text("chatsite")
        expect(page.get_by_role("combobox", name="Language")).to_be_visible()
        checked(page, f"{name} {scheme} {size}")


def test_the_sign_up_page_says_the_password_rules_in_a_sentence_and_errors_by_their_field(
    open_page, pages_site: Site
):
    page = open_page(viewport=SIZES["phone"])
    page.goto(f"{pages_site.url}/accounts/signup/")
    password = page.get_by_label("Password", exact=True)
    expect(page.locator(".auth-card ul")).to_have_count(0)  # not Django's list of rules
    expect(password).to_have_accessible_description(
        "At least 8 characters, "
        + ("not only digits, not a common password and not like your username.")
    )
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.get_by_label("Username").fill("newcomer")
    password.fill("12345678")
    page.get_by_label("Password confirmation").fill("12345678")
    page.get_by_role("button", name="Create account").click()
    expect(password).to_have_attribute("aria-invalid", "true")
    description = password.evaluate(
        "(el) => el.getAttribute('aria-describedby').split(' ')"
        ".map((id) => document.getElementById(id).textContent).join(' ')"
    )
    assert "too common" in description or "entirely numeric" in description, description
    checked(page, "signup-errors light phone")

    page.goto(f"{pages_site.url}/accounts/login/")
    expect(page.get_by_role("link", name="Sign up")).to_be_visible()
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_signed_in_pages_look_right_everywhere(open_page, pages_site: Site, made, scheme, size):
    page = open_page(viewport=SIZES[size])
    page.emulate_media(color_scheme=scheme)
    sign_in(page, pages_site)
    for name, path in [
        ("projects", "/projects/"),
        ("project", f"/projects/{made['project']}/"),
        ("your-data", "/settings/data/"),
        ("api-keys", "/settings/api-keys/"),
        ("share", f"/s/{made['share']}/"),
        ("password-change", "/accounts/password/change/"),
    ]:
        page.goto(f"{pages_site.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        checked(page, f"{name} {scheme} {size}")
        menu = page.locator(".site-menu-button")
        if size == "phone":
            # The bar's links fold behind one button, and open within the screen.
            expect(menu).to_be_visible()
            menu.scroll_into_view_if_needed()
            menu.click()
            panel = page.locator(".site-menu-panel")
            expect(panel.get_by_role("button", name="Log out")).to_be_visible()
            assert axe_violations(page) == [], f"{name} {scheme} {size}, menu open"
            within_reach(page, panel.locator(CONTROLS), f"{name} menu")
            if os.environ.get("PAGES_SCREENSHOTS") and name == "projects":
                page.screenshot(path=f"{os.environ['PAGES_SCREENSHOTS']}/pages-menu-{scheme}.png")
            if name == "projects":
                # It closes like a menu: Escape gives the focus back to its button, and
                # a click elsewhere closes it too.
                panel.get_by_role("link", name="Your data").focus()
                page.keyboard.press("Escape")
                expect(panel).to_be_hidden()
                expect(menu).to_be_focused()
                menu.click()
                expect(panel).to_be_visible()
                page.mouse.click(8, SIZES["phone"]["height"] - 8)  # below the panel
                expect(panel).to_be_hidden()
            else:
                menu.click()
        else:
            expect(menu).to_be_hidden()
            bar = page.locator(".site-bar")
            for link in ("Projects", "Your data", "API keys", "Admin", "Password"):
                expect(bar.get_by_role("link", name=link, exact=True)).to_be_visible()
            expect(bar.get_by_role("button", name="Log out")).to_be_visible()
            expect(bar.get_by_role("combobox", name="Language")).to_be_visible()


def test_the_language_switch_changes_the_pages_language(open_page, pages_site: Site):
    page = open_page(viewport=SIZES["wide"])
    sign_in(page, pages_site)
    page.goto(f"{pages_site.url}/projects/")
    page.get_by_role("combobox", name="Language").select_option("de")
    page.locator(".site-bar .language-change").click()
    expect(page).to_have_url(f"{pages_site.url}/projects/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#language-select")).to_have_value("de")
