"""A 20,000-token answer, as fast as the fake upstream sends it, streams into the page
without freezing it, and all of it arrives rendered.

Timings are measured and printed, never asserted (docs/benchmarks.md, "Browser"):
    make pytest ARGS="tests/browser/test_long_answer.py -q -s"
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, CONTENT, PASSWORD, Site, ask
from tests.servers import site_manage

pytestmark = pytest.mark.browser

TOKENS = 20_000
READER = "long-reader"  # 40,000 tokens are not charged to the account other tests watch
_WORD = re.compile(r"\S+\s*|\s+")  # how the fake upstream cuts text into tokens


def long_markdown(tokens: int) -> tuple[str, int]:
    """Sections of a heading, a paragraph, a list, a code block and a table, until the
    text is `tokens` pieces long for the fake upstream. Returns it and its section count."""
    sections: list[str] = []
    count = 0
    while sum(len(_WORD.findall(s)) for s in sections[-1:]) * len(sections) < tokens:
        count += 1
        sections.append(
            f"## Section {count}\n\n"
            + " ".join(f"word{j}" for j in range(40))
            + f" marker-{count}.\n\n"
            + "".join(f"- item {j} of section {count}\n" for j in range(5))
            + "\n```python\n"
            + "".join(f"value_{j} = compute({j}, {count})\n" for j in range(5))
            + "```\n\n| key | value |\n| --- | --- |\n"
            + "".join(f"| k{j} | v{j} |\n" for j in range(3))
            + "\n"
        )
    return "".join(sections), count


# Long tasks on the main thread from now on, and how often the answer is drawn per frame.
INSTRUMENT = """() => {
  window.longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
  }).observe({ type: 'longtask' });
  window.longFrames = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.longFrames.push(entry.duration);
  }).observe({ type: 'long-animation-frame' });
  window.frame = 0;
  const tick = () => { window.frame += 1; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  window.drawsPerFrame = new Map();
  new MutationObserver(() => {
    window.drawsPerFrame.set(window.frame, (window.drawsPerFrame.get(window.frame) || 0) + 1);
  }).observe(document.getElementById('messages'), { childList: true, subtree: true });
  window.sentAt = performance.now();
}"""
RESULTS = """() => ({
  longTasks: window.longTasks,
  longFrames: window.longFrames,
  draws: [...window.drawsPerFrame.values()].reduce((a, b) => a + b, 0),
  finalRender: performance.getEntriesByName('chatsite:final-render').at(-1).duration,
  maxDrawsPerFrame: Math.max(...window.drawsPerFrame.values()),
  frames: window.frame,
  seconds: (performance.now() - window.sentAt) / 1000,
})"""


@pytest.fixture(scope="module")
def reader(site: Site) -> str:
    site_manage(
        site.env, "createsuperuser", "--noinput", "--username", READER, "--email", "r@example.org"
    )
    return READER


def stream_and_measure(page: Page, site: Site, upstream, label: str, **plan) -> dict:
    upstream.plan(delay=0, **plan)
    page.goto(f"{site.url}/")
    page.fill("#id_username", READER)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/")
    page.evaluate(INSTRUMENT)
    ask(page, "A very long answer, please")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete", timeout=90_000)
    # The done frame's text may take a few more frames to draw: until it is all there.
    page.wait_for_function("() => performance.getEntriesByName('chatsite:final-render').length > 0")
    results = page.evaluate(RESULTS)
    tasks, frames = results["longTasks"], results["longFrames"]
    print(
        f"\n[browser] {label}: {TOKENS:,} tokens streamed in {results['seconds']:.1f} s "
        f"({results['frames']} animation frames, {results['draws']} DOM updates, at most "
        f"{results['maxDrawsPerFrame']} in one frame); longest main-thread task "
        f"{max(tasks, default=0):.0f} ms ({len(tasks)} over 50 ms, {sum(tasks):.0f} ms in all); "
        f"longest animation frame {max(frames, default=0):.0f} ms ({len(frames)} over 50 ms); "
        f"final render (done frame to all drawn) {results['finalRender']:.1f} ms"
    )
    return results


def test_a_20000_token_markdown_answer_streams_and_arrives_whole(
    page: Page, site: Site, upstream, reader
):
    text, sections = long_markdown(TOKENS)
    assert len(_WORD.findall(text)) >= TOKENS
    results = stream_and_measure(page, site, upstream, "markdown sections", text=text)

    content = page.locator(CONTENT)
    expect(content.locator("h2")).to_have_count(sections)
    expect(content.locator("h2").last).to_have_text(f"Section {sections}")
    expect(content.locator(".code-block")).to_have_count(sections)
    expect(content.locator("table")).to_have_count(sections)
    expect(content.locator(":scope > ul > li")).to_have_count(sections * 5)
    assert (content.text_content() or "").count("marker-") == sections
    # Drawn at most once per animation frame (plus a message or the final frame).
    assert results["maxDrawsPerFrame"] <= 3


def test_a_20000_token_answer_in_one_paragraph_streams_and_arrives_whole(
    page: Page, site: Site, upstream, reader
):
    # The worst case for block-by-block rendering: one block that never finishes.
    stream_and_measure(page, site, upstream, "one paragraph", tokens=TOKENS)

    words = (page.locator(f"{CONTENT} p").text_content() or "").split()
    assert words == [f"t{i}" for i in range(TOKENS)]
