"""Answers are rendered as markdown while they stream, block by block, and saved messages
are rendered by the same code after a reload."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, CONTENT, Site, ask, log_in

pytestmark = pytest.mark.browser

ANSWER = r"""# Release notes

Some *emphasis*, **strong words**, a [link](https://example.org/docs) and www.example.com.

- first point
- second point
  - a nested one

1. step one
2. step two

| name | value |
| --- | ---: |
| alpha | 1 |
| beta | 2 |

```python
def greet(name: str) -> str:
    return f"Hello {name}"
```

Inline math $E = mc^2$ and a block:

$$
\int_0^1 x^2 \, dx = \frac{1}{3}
$$

> A quote to finish.

The end.
"""
CODE = 'def greet(name: str) -> str:\n    return f"Hello {name}"'


def test_an_answer_is_rendered_as_markdown_while_it_streams_and_the_same_after_reload(
    page: Page, site: Site, upstream
):
    upstream.plan(text=ANSWER, delay=0.02)
    log_in(page, site)
    ask(page, "Release notes, please")

    # The heading is on the page, rendered, long before the answer is over.
    expect(page.locator(f"{CONTENT} h1")).to_have_text("Release notes")
    assert page.locator(ASSISTANT).get_attribute("data-status") == "streaming"

    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    content = page.locator(CONTENT)
    expect(content.locator("em")).to_have_text("emphasis")
    expect(content.locator("strong")).to_have_text("strong words")
    expect(content.locator(":scope > ul > li")).to_have_count(2)
    expect(content.locator("ul ul > li")).to_have_text("a nested one")
    expect(content.locator("ol > li")).to_have_text(["step one", "step two"])
    expect(content.locator("table th")).to_have_text(["name", "value"])
    expect(content.locator("table tbody tr")).to_have_count(2)
    expect(content.locator("blockquote")).to_have_text("A quote to finish.")
    # Code: highlighted by language, with its copy button.
    code = content.locator(".code-block pre code")
    assert code.text_content() == CODE
    expect(code.locator(".hljs-keyword").first).to_have_text("def")
    expect(content.locator(".code-block .code-language")).to_have_text("python")
    expect(content.get_by_role("button", name="Copy code")).to_be_visible()
    # Math: KaTeX's MathML, inline and as a block.
    expect(content.locator("p math")).to_have_count(1)
    expect(content.locator(".math-block math")).to_have_count(1)
    assert "mfrac" in content.locator(".math-block").inner_html()
    # Links open in a new tab and tell the site nothing of where they came from.
    for link in content.locator("a").all():
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener noreferrer"
    hrefs = [a.get_attribute("href") for a in content.locator("a").all()]
    assert hrefs == ["https://example.org/docs", "http://www.example.com"]

    rendered_live = content.inner_html()
    page.reload()
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(f"{CONTENT} h1")).to_have_text("Release notes")
    assert page.locator(CONTENT).inner_html() == rendered_live


def test_half_written_bold_shows_as_bold_without_stray_asterisks(page: Page, site: Site, upstream):
    # The answer stops coming for a while in the middle of its bold words.
    pieces = ["Here is ", "**very ", "impor", "tant** news", " for `make ", "run`.\n"]
    upstream.plan(pieces=pieces, stall_after=3, stall=3)
    log_in(page, site)
    ask(page, "News?")

    content = page.locator(CONTENT)
    expect(content.locator("strong")).to_have_text("very impor")
    assert "*" not in content.inner_text()
    assert page.locator(ASSISTANT).get_attribute("data-status") == "streaming"

    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(content.locator("strong")).to_have_text("very important")
    expect(content.locator("code")).to_have_text("make run")
    expect(content).to_have_text("Here is very important news for make run.")


def test_finished_blocks_stay_as_they_are_and_other_messages_are_left_alone(
    page: Page, site: Site, upstream
):
    upstream.plan(text="An **earlier** answer.\n")
    log_in(page, site)
    ask(page, "First")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    paragraphs = "\n\n".join(f"Paragraph {i} of a long answer." for i in range(40))
    upstream.plan(text=f"# Title\n\n{paragraphs}\n", delay=0.01)
    # Every change to the earlier answer's content is counted from here on.
    page.evaluate(
        """() => {
        window.earlierMutations = 0;
        const earlier = document.querySelector('.message[data-role="assistant"] .message-content');
        new MutationObserver((records) => (window.earlierMutations += records.length))
          .observe(earlier, { childList: true, subtree: true, characterData: true });
    }"""
    )
    ask(page, "Second")
    latest = page.locator(ASSISTANT).last
    expect(latest.locator(".message-content h1")).to_have_text("Title")
    expect(latest.locator(".message-content p").nth(3)).to_be_attached()
    # Mark the heading and the first paragraphs: if they are rendered again, the marks go.
    status_when_marked = page.evaluate(
        """() => {
        const answer = [...document.querySelectorAll('.message[data-role="assistant"]')].at(-1);
        const content = answer.querySelector('.message-content');
        content.querySelector('h1').dataset.seen = 'yes';
        content.querySelectorAll('p')[0].dataset.seen = 'yes';
        content.querySelectorAll('p')[1].dataset.seen = 'yes';
        return answer.dataset.status;
    }"""
    )
    assert status_when_marked == "streaming"
    expect(latest).to_have_attribute("data-status", "complete", timeout=15_000)

    expect(latest.locator(".message-content p")).to_have_count(40)
    expect(latest.locator(".message-content [data-seen=yes]")).to_have_count(3)
    assert page.evaluate("window.earlierMutations") == 0


def test_the_copy_button_copies_the_code_exactly(open_page, site: Site, upstream):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    upstream.plan(text=f"Here:\n\n```python\n{CODE}\n```\n")
    log_in(page, site)
    ask(page, "Code, please")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    page.locator(CONTENT).get_by_role("button", name="Copy code").click()

    expect(page.locator(f"{CONTENT} .copy-code")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == CODE


def test_raw_html_is_shown_as_written_and_prices_are_not_math(page: Page, site: Site, upstream):
    upstream.plan(text="Use <b>bold</b> tags.\n\nIt costs $5 and $10, or \\$20.\n")
    log_in(page, site)
    ask(page, "Tags?")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    paragraphs = page.locator(f"{CONTENT} p")
    expect(paragraphs.first).to_have_text("Use <b>bold</b> tags.")
    expect(paragraphs.nth(1)).to_have_text("It costs $5 and $10, or $20.")
    expect(page.locator(f"{CONTENT} b, {CONTENT} math")).to_have_count(0)


def test_what_the_person_typed_is_rendered_with_its_lines(page: Page, site: Site, upstream):
    upstream.plan(tokens=2)
    log_in(page, site)
    page.fill("#composer-input", "Line one with `code`\nline two")
    page.keyboard.press("Enter")

    question = page.locator('.message[data-role="user"] .message-content')
    expect(question.locator("code")).to_have_text("code")
    expect(question.locator("br")).to_have_count(1)
    assert question.inner_text().strip() == "Line one with code\nline two"


def test_reasoning_is_shown_live_in_a_collapsed_thinking_panel_with_how_long_it_took(
    page: Page, site: Site, upstream
):
    upstream.plan(reasoning=25, delay=0.06, tokens=30)
    log_in(page, site)
    ask(page, "Think first")

    panel = page.locator(f"{ASSISTANT} details.reasoning")
    summary = panel.locator("summary")
    # Live: the panel is there, collapsed, saying it is thinking, and filling up.
    expect(summary).to_contain_text("Thinking…")
    assert panel.get_attribute("open") is None, "collapsed by default"
    expect(panel.locator(".reasoning-content")).to_contain_text("r3")
    # Once the answer begins, it says how long it thought, while the answer still streams.
    expect(summary).to_have_text(re.compile(r"^Thought for \d+ s$"))
    assert page.locator(ASSISTANT).get_attribute("data-status") == "streaming"

    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    said = summary.text_content()
    seconds = int(said.split()[2])
    assert seconds >= 1
    summary.click()
    expect(panel.locator(".reasoning-content")).to_have_text(" ".join(f"r{i}" for i in range(25)))
    assert "r0" not in (page.locator(CONTENT).text_content() or "")

    page.reload()
    expect(summary).to_have_text(said)
    expect(panel.locator(".reasoning-content")).to_contain_text("r24")


def test_tool_calls_are_shown_as_blocks_with_their_name_and_pretty_arguments(
    page: Page, site: Site, upstream
):
    arguments = {"city": "Oslo", "days": [1, 2], "units": "metric"}
    calls = [{"name": "get_weather", "arguments": json.dumps(arguments)}]
    upstream.plan(tokens=0, tool_calls=calls, finish_reason="tool_calls")
    log_in(page, site)
    ask(page, "Weather?")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    for reload in (False, True):
        if reload:
            page.reload()
        block = page.locator(f"{ASSISTANT} details.tool-call")
        expect(block.locator("summary")).to_have_text("Tool call: get_weather")
        block.locator("summary").click()
        args = block.locator(".tool-call-arguments")
        expect(args).to_be_visible()
        assert args.text_content() == json.dumps(arguments, indent=2)


def test_flipping_versions_keeps_markdown_reasoning_and_the_source_for_edit_and_copy(
    open_page, site: Site, upstream
):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    upstream.plan(text="# First\n\nThe **first** answer.\n", reasoning=2)
    log_in(page, site)
    ask(page, "Say it in **bold**")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    upstream.plan(text="# Second\n\nAnother answer.\n")
    page.click(f"{ASSISTANT} .regenerate-button")
    expect(page.locator(f"{CONTENT} h1")).to_have_text("Second")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    page.click(f"{ASSISTANT} .branch-previous")

    expect(page.locator(f"{CONTENT} h1")).to_have_text("First")
    expect(page.locator(f"{CONTENT} strong")).to_have_text("first")
    expect(page.locator(f"{ASSISTANT} details.reasoning summary")).to_have_text(
        re.compile(r"^Thought for \d+ s$")
    )
    # Copy and Edit work on what was written, not on the rendered text.
    page.click(f"{ASSISTANT} .copy-button")
    expect(page.locator(f"{ASSISTANT} .copy-button")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "# First\n\nThe **first** answer.\n"
    page.click('.message[data-role="user"] .edit-button')
    expect(page.locator('.message[data-role="user"] .edit-input')).to_have_value(
        "Say it in **bold**"
    )
