"""Every screen of the site, and the admin pages chatsite adds, on a phone (375 by 740) and a
wide screen (1440 by 900), in the light and the dark theme (issue 20): axe-core finds no
serious or critical violation, every visible control can be reached (inside the viewport
once scrolled to, and not under something else), and the page never scrolls sideways."""

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ASSISTANT, PASSWORD, Site, axe_violations, site_serving
from tests.servers import FakeUpstreamServer, site_query, site_storage

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
WIDE = {"width": 1440, "height": 900}
SIZES = {"phone": PHONE, "wide": WIDE}
SCHEMES = ("light", "dark")

QUESTION = "Summarise the release for me"
# An answer with what markdown draws: a heading, a list, highlighted code, a table, a link.
ANSWER = """# Release notes

The new release is out; read the [full changelog](https://example.org/changelog) for more.

- Faster start-up
- Smaller pages, with `gzip` on by default

```python
def greet(name: str) -> str:
    for attempt in range(3):
        if name:
            return f"Hello, {name}!"
    return None
```

| Model | Context | Price |
|---|---|---|
| small | 8,192 | 0.10 |
| large | 128,000 | 1.20 |
"""

# What counts as a control: what a person can click, type in or tab to.
CONTROLS = (
    'a[href], button, input:not([type="hidden"]), select, textarea, summary, '
    '[role="button"], [tabindex="0"]'
)
# Run in the page, with the roots to look in (CSS selectors; none: the whole document):
# every visible, enabled control, scrolled into view if needed (at once, even under
# `scroll-behavior: smooth`; in every scroll container, the page's and the element's own)
# and checked: its box within the viewport's width, some of it within its height, and
# the point at the centre of what shows of one of its boxes (a link wrapped over two
# lines has two) hits the control itself (or something inside it, or its label). A
# control that fails once scrolled to the nearest edge is tried again centred, then
# focused (a skip link shows only when focused). Returns the ones that fail, described.
UNREACHABLE = """([controls, roots]) => {
  const describe = (el) => {
    if (!el) return 'nothing';
    const id = el.id ? '#' + el.id : '';
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '';
    return el.tagName.toLowerCase() + id + cls;
  };
  const name = (el) => (
    el.getAttribute('aria-label') || (el.innerText || '').trim() || el.getAttribute('title')
    || el.getAttribute('placeholder') || el.getAttribute('name') || el.getAttribute('type') || ''
  ).replace(/\\s+/g, ' ').slice(0, 50);
  const problem = (el) => {
    const width = document.documentElement.clientWidth;
    const height = window.innerHeight;
    const box = el.getBoundingClientRect();
    const where = `x ${Math.round(box.left)}..${Math.round(box.right)}, `
      + `y ${Math.round(box.top)}..${Math.round(box.bottom)}`;
    const what = `<${describe(el)}> "${name(el)}" at ${where}`;
    if (box.left < -0.5 || box.right > width + 0.5) {
      return `${what}: outside the viewport's width (0..${width})`;
    }
    const labels = el.labels ? [...el.labels] : [];
    let hit = null;
    let seen = false;
    for (const part of el.getClientRects()) {
      const top = Math.max(part.top, 0), bottom = Math.min(part.bottom, height);
      const left = Math.max(part.left, 0), right = Math.min(part.right, width);
      if (bottom <= top || right <= left) continue;
      seen = true;
      hit = document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
      const inside = (other) => hit && (other === hit || other.contains(hit));
      if (inside(el) || labels.some(inside)) return '';
    }
    if (!seen) return `${what}: out of sight, and scrolling does not bring it into view`;
    return `${what}: covered by <${describe(hit)}> "${hit ? name(hit) : ''}"`;
  };
  const scopes = roots.length
    ? roots.flatMap((selector) => [...document.querySelectorAll(selector)])
    : [document.documentElement];
  const problems = roots.filter((selector) => !document.querySelector(selector))
    .map((selector) => `${selector}: no such element to look in`);
  const found = new Set();
  for (const scope of scopes) {
    if (scope.matches(controls)) found.add(scope);
    scope.querySelectorAll(controls).forEach((el) => found.add(el));
  }
  for (const el of found) {
    if (el.matches(':disabled')) continue;
    if (!el.checkVisibility({visibilityProperty: true, checkVisibilityCSS: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    el.scrollIntoView({block: 'nearest', inline: 'nearest', behavior: 'instant'});
    let failure = problem(el);
    if (failure) {
      el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
      failure = problem(el) && failure;
    }
    if (failure) {
      el.focus();
      failure = problem(el) && failure;
      el.blur();
    }
    if (failure) problems.push(failure);
  }
  return problems;
}"""
SIDEWAYS = """() => document.documentElement.scrollWidth > window.innerWidth
  ? `it is ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`
  : ''"""
# axe-core leaves out of its contrast check the text it cannot see: outside the viewport
# (most of a long page on a phone, the end of a dialog that scrolls) or under something.
# Run in the page after axe_violations: one element of each look (tag, class, colours,
# font) among those with text of their own that are out of sight, scrolled into view and
# checked; the violations then found, as {id, impact, help, nodes: ["target: summary"]}.
CONTRAST_OUT_OF_SIGHT = """async () => {
  const shown = (el) => {
    const b = el.getBoundingClientRect();
    if (b.top < 0 || b.left < 0 || b.bottom > innerHeight
        || b.right > document.documentElement.clientWidth) return false;
    const hit = document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2);
    return Boolean(hit && (hit === el || el.contains(hit)));
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const colour = getComputedStyle(e).backgroundColor;
      if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') return colour;
    }
    return '';
  };
  const looks = new Set();
  const unseen = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    if (!el.checkVisibility({visibilityProperty: true, checkVisibilityCSS: true})) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || shown(el)) continue;
    const style = getComputedStyle(el);
    const look = [el.tagName, el.className, style.color, style.fontSize, style.fontWeight,
      style.opacity, background(el)].join('|');
    if (looks.has(look)) continue;
    looks.add(look);
    unseen.push(el);
  }
  const found = new Map();
  for (const el of unseen.slice(0, 150)) {
    el.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
    if (!shown(el)) continue;
    const again = await axe.run(el, {
      runOnly: {type: 'rule', values: ['color-contrast']}, resultTypes: ['violations'],
    });
    for (const v of again.violations) {
      if (!['serious', 'critical'].includes(v.impact)) continue;
      const lines = found.get(v.id) || {impact: v.impact, help: v.help, nodes: []};
      lines.nodes.push(...v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary));
      found.set(v.id, lines);
    }
  }
  return [...found].map(([id, v]) => ({id, ...v}));
}"""
# Animations and transitions (a dialog or a sidebar coming in) have ended; endless ones
# (a spinner) do not count.
SETTLED = """() => document.getAnimations().every(
  (a) => a.playState !== 'running' || a.effect.getTiming().iterations === Infinity)"""


def contrast_out_of_sight(page: Page, found: list[str]) -> list[str]:
    """CONTRAST_OUT_OF_SIGHT's violations, one readable line each as axe_violations
    writes them, without the elements already in `found` (its lines)."""
    seen = "\n".join(found)
    lines = []
    for v in page.evaluate(CONTRAST_OUT_OF_SIGHT):
        nodes = [n for n in v["nodes"] if f"\n    {n.split(': ', 1)[0]}: " not in seen]
        if nodes:
            lines.append(
                f"{v['id']} ({v['impact']}), once scrolled into view: {v['help']}\n    "
                + "\n    ".join(nodes[:5])
            )
    return lines


@dataclass
class Data:
    """What the screens show, made once: alice's conversation with an answer, a project,
    an API key and a share of the conversation."""

    conversation: int = 0
    project: int = 0
    share: str = ""


@dataclass
class Screens:
    site: Site
    data: Data = field(default_factory=Data)


def log_in(page: Page, site: Site) -> None:
    """conftest's log_in, but submitting the log-in form itself: its first submit button
    is the language switch's on main (01ab0aa)."""
    page.goto(f"{site.url}/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{site.url}/")


@contextlib.contextmanager
def screens_site(fake: FakeUpstreamServer, workdir: Path) -> Iterator[Screens]:
    """A site of its own, with sign-up open and password resets on, and its admin alice;
    screens_data gives her what the screens show."""
    storage = site_storage(workdir)
    if "REDIS_URL" in storage:
        # Not another site's Redis database: each numbers its conversations from 1.
        storage["REDIS_URL"] = storage["REDIS_URL"].rsplit("/", 1)[0] + "/3"
    with site_serving(fake, storage, SIGNUP_MODE="open", PASSWORD_RESET_ENABLED="1") as site:
        yield Screens(site=site)


def screens_data(screens: Screens, browser: Browser, fake: FakeUpstreamServer) -> None:
    """Alice asks QUESTION in the browser and gets ANSWER; the rest is made in the site's
    Django, as the pages that make them would."""
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    fake.reset()
    fake.plan(text=ANSWER)
    log_in(page, screens.site)
    page.fill("#composer-input", QUESTION)
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    screens.data.conversation = int(page.url.rstrip("/").rsplit("/", 1)[1])
    context.close()
    made = site_query(
        screens.site.env,
        "from chat.models import Project, User\n"
        "from chat.services.api.keys import api_key_create\n"
        "from chat.services.conversations.sharing import share_create\n"
        "alice = User.objects.get(username='alice')\n"
        "project = Project.objects.create(user=alice, name='Thesis',"
        " system_prompt='Answer as a careful reviewer.')\n"
        "api_key_create(user=alice, name='Laptop script')\n"
        f"share = share_create(user=alice, conversation_id={screens.data.conversation})\n"
        "result = [project.pk, share.token]",
    )
    screens.data.project, screens.data.share = made


@pytest.fixture(scope="module")
def screens(
    fake_upstream_server: FakeUpstreamServer,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Screens]:
    with screens_site(fake_upstream_server, tmp_path_factory.mktemp("screens")) as made:
        screens_data(made, browser, fake_upstream_server)
        yield made


@pytest.fixture(scope="module")
def pages(browser: Browser, screens: Screens) -> Iterator[Callable[[str, bool], Page]]:
    """One page per size, signed in as alice or not, kept for the module's tests."""
    contexts: dict[tuple[str, bool], BrowserContext] = {}
    opened: dict[tuple[str, bool], Page] = {}

    def page_for(size: str, signed_in: bool) -> Page:
        key = (size, signed_in)
        if key not in opened:
            contexts[key] = browser.new_context(viewport=SIZES[size])
            opened[key] = contexts[key].new_page()
            opened[key].set_default_timeout(15_000)
            if signed_in:
                log_in(opened[key], screens.site)
        return opened[key]

    yield page_for
    for context in contexts.values():
        context.close()


def _chat_answered(page: Page, screens: Screens) -> None:
    page.goto(f"{screens.site.url}/c/{screens.data.conversation}/")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(f"{ASSISTANT} table")).to_be_visible()
    # The model list has come (not "Loading models…").
    expect(page.get_by_role("combobox", name="Model")).to_be_enabled()


def _chat_settings(page: Page, screens: Screens) -> None:
    _chat_answered(page, screens)
    page.click("#settings-button")
    expect(page.locator("#settings-dialog")).to_be_visible()


def _sidebar_open(page: Page, screens: Screens) -> None:
    _chat_answered(page, screens)
    toggle = page.get_by_role("button", name="Conversations")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()


def _visit(path: str) -> Callable[[Page, Screens], None]:
    def visit(page: Page, screens: Screens) -> None:
        response = page.goto(screens.site.url + path.format(data=screens.data))
        # A wrong address would check the 404 page instead.
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"

    return visit


@dataclass(frozen=True)
class Screen:
    signed_in: bool
    open: Callable[[Page, Screens], None]
    # Where the controls to check are (CSS selectors): while a modal dialog or the
    # phone's sidebar is open, what is under it is not meant to be reached.
    roots: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ("phone", "wide")


SCREENS = {
    "login": Screen(False, _visit("/accounts/login/")),
    "signup": Screen(False, _visit("/accounts/signup/")),
    "password-reset": Screen(False, _visit("/accounts/password/reset/")),
    "chat-empty": Screen(True, _visit("/")),
    "chat-answer": Screen(True, _chat_answered),
    "chat-settings": Screen(True, _chat_settings, roots=("dialog:modal",)),
    "sidebar-open": Screen(
        True, _sidebar_open, roots=("#sidebar-toggle", "#sidebar"), sizes=("phone",)
    ),
    "projects": Screen(True, _visit("/projects/")),
    "project": Screen(True, _visit("/projects/{data.project}/")),
    "your-data": Screen(True, _visit("/settings/data/")),
    "api-keys": Screen(True, _visit("/settings/api-keys/")),
    "share": Screen(True, _visit("/s/{data.share}/")),
    "password-change": Screen(True, _visit("/accounts/password/change/")),
    "admin-dashboard": Screen(True, _visit("/admin/chat/usage/dashboard/")),
    "admin-usage-list": Screen(True, _visit("/admin/chat/usage/")),
    "admin-index": Screen(True, _visit("/admin/")),
}
CASES = [
    pytest.param(size, name, scheme, id=f"{size}-{name}-{scheme}")
    for size in SIZES
    for name, screen in SCREENS.items()
    if size in screen.sizes
    for scheme in SCHEMES
]


@pytest.mark.parametrize(("size", "name", "scheme"), CASES)
def test_every_screen_is_accessible_and_every_control_reachable(
    pages: Callable[[str, bool], Page], screens: Screens, size: str, name: str, scheme: str
):
    screen = SCREENS[name]
    page = pages(size, screen.signed_in)
    page.emulate_media(color_scheme=scheme)
    screen.open(page, screens)
    page.wait_for_load_state("load")
    page.wait_for_function(SETTLED)
    assert page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches") is (
        scheme == "dark"
    )

    problems = []
    violations = axe_violations(page)
    violations += contrast_out_of_sight(page, violations)
    if violations:
        problems.append("axe-core finds:\n  " + "\n  ".join(violations))
    unreachable = page.evaluate(UNREACHABLE, [CONTROLS, list(screen.roots)])
    if unreachable:
        problems.append("controls that cannot be reached:\n  " + "\n  ".join(unreachable))
    # Measured last: scrolling to the controls must not have left the page wider either.
    sideways = page.evaluate(SIDEWAYS)
    if sideways:
        problems.append(f"the page scrolls sideways: {sideways}")
    assert not problems, f"{name} ({size}, {scheme}) at {page.url}:\n" + "\n".join(problems)
