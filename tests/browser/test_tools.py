"""A tool call that needs the user's approval, walked in the browser: the user chooses the
tool in the conversation's settings, the model calls it, the page shows the call with its
arguments, the user approves (or declines), and the answer ends with what the tool gave
back, shown sanitised, also after a reload."""

import json

import pytest
from playwright.sync_api import Page, expect

from chat import texts
from tests.browser.conftest import ASSISTANT, CONTENT, Site, ask, log_in
from tests.conftest import MCP_SECRET
from tests.servers import site_manage

pytestmark = pytest.mark.browser

RUN = f"{ASSISTANT} .tool-run"

# Run by the site's own manage.py: the admin's choices, as the admin pages save them.
SETUP = """
from chat.models import McpServer, McpTool, User
from chat.services.tools.servers import mcp_server_secret_set, mcp_server_tools_refresh
server, _ = McpServer.objects.get_or_create(
    slug="tests", defaults={{"name": "Tests", "url": {url!r}, "allow_private": True}}
)
server.secret_header = "X-MCP-Secret"
mcp_server_secret_set(server, {secret!r})
server.save()
mcp_server_tools_refresh(server)
for name in ("slow", "echo"):
    tool = McpTool.objects.get(server=server, name=name)
    tool.enabled, tool.approval = True, "ask"
    tool.save()
    tool.users.add(User.objects.get(username="alice"))
"""


@pytest.fixture(scope="module")
def tools_for_alice(site: Site, http_server: str) -> None:
    code = SETUP.format(url=http_server, secret=MCP_SECRET)
    site_manage(site.env, "shell", "--no-imports", "-c", code)


def _choose_tool(page: Page, label: str) -> None:
    page.click("#settings-button")
    page.get_by_label(label, exact=False).check()
    page.click("#settings-save")
    expect(page.locator("#settings-dialog")).to_be_hidden()


def _asked(page: Page, site: Site, upstream, *, tool: str, arguments: dict, then: str):
    """alice chooses a tool, asks, and the model calls it, then answers `then`: the call's
    block, waiting for her."""
    log_in(page, site)
    _choose_tool(page, f"Tests: {tool}")
    call = {"name": f"tests__{tool}", "arguments": json.dumps(arguments)}
    upstream.plan(tool_calls=[call], finish_reason="tool_calls")
    upstream.plan(text=then)
    ask(page, f"Use {tool}, please")
    run = page.locator(RUN)
    expect(run).to_have_attribute("data-status", "asked")
    return run


def test_a_call_approved_runs_and_the_answer_continues_with_its_result(
    page: Page, site: Site, upstream, tools_for_alice
):
    run = _asked(
        page, site, upstream, tool="slow", arguments={"seconds": 0.2}, then="The wait is over."
    )
    expect(run.locator(".tool-run-arguments")).to_contain_text('"seconds": 0.2')
    status = page.locator(f"{ASSISTANT} .message-status")
    expect(status).to_have_text("Waiting for your approval of a tool call.")
    assert len(upstream.log()) == 1, "the tool waits for the user: no second round yet"
    run.get_by_role("button", name="Approve").click()

    expect(page.locator(CONTENT)).to_have_text("The wait is over.")
    expect(run).to_have_attribute("data-status", "done")
    expect(run.locator(".tool-run-result-body")).to_have_text("waited 0.2 s")
    expect(run.get_by_role("button", name="Approve")).to_have_count(0)
    expect(status).to_have_count(0)
    told = upstream.log()[-1]["body"]["messages"][-1]
    assert told == {"role": "tool", "tool_call_id": "call_0", "content": "waited 0.2 s"}

    page.reload()
    expect(page.locator(RUN)).to_have_attribute("data-status", "done")
    expect(page.locator(f"{RUN} .tool-run-result-body")).to_have_text("waited 0.2 s")


def test_a_call_declined_does_not_run_and_the_model_is_told(
    page: Page, site: Site, upstream, tools_for_alice
):
    then = "All right, I will not wait."
    run = _asked(page, site, upstream, tool="slow", arguments={"seconds": 30}, then=then)
    run.get_by_role("button", name="Decline").click()

    expect(page.locator(CONTENT)).to_have_text("All right, I will not wait.")
    expect(run).to_have_attribute("data-status", "declined")
    expect(run.locator(".tool-run-result-body")).to_have_text(texts.TOOL_DECLINED)
    assert upstream.log()[-1]["body"]["messages"][-1]["content"] == texts.TOOL_DECLINED


def test_a_tool_s_markup_is_shown_sanitised(page: Page, site: Site, upstream, tools_for_alice):
    hostile = '**bold** <img src=x onerror="window.pwned=1"> [link](javascript:window.pwned=2)'
    run = _asked(page, site, upstream, tool="echo", arguments={"text": hostile}, then="Echoed.")
    run.get_by_role("button", name="Approve").click()

    body = page.locator(f"{RUN} .tool-run-result-body")
    expect(page.locator(CONTENT)).to_have_text("Echoed.")
    expect(body.locator("strong")).to_have_text("bold")
    assert body.locator("img").count() == 0
    assert body.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("window.pwned") is None
