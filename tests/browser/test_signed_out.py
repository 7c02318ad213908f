import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import Site, log_in
from tests.servers import site_query

pytestmark = pytest.mark.browser


def test_a_page_whose_session_ended_says_so_offers_to_sign_in_and_stops_reconnecting(
    page: Page, site: Site
):
    # The page's sockets go through to the real server; holding their server sides lets
    # the test drop one, as a server restart would.
    servers: list[WebSocketRoute] = []
    page.route_web_socket(
        re.compile(r"/ws/chat/$"), lambda ws: servers.append(ws.connect_to_server())
    )
    log_in(page, site)
    page.wait_for_function("() => document.readyState === 'complete'")
    while not servers:
        page.wait_for_timeout(50)
    session = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    code = "from django.contrib.sessions.models import Session\n"
    code += f"result = Session.objects.filter(session_key={session!r}).delete()[0]"
    assert site_query(site.env, code) == 1

    servers[0].close(code=1000, reason="restarting")  # the page reconnects

    signed_out = page.locator("#signed-out")
    expect(signed_out).to_be_visible()
    expect(signed_out).to_contain_text("You are signed out.")
    expect(signed_out.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", re.compile(r"/accounts/login/\?next=%2F$")
    )
    page.wait_for_timeout(3000)  # the page retried after 0.5 s, 1 s, 2 s before the fix
    assert len(servers) == 2
    expect(page.locator("#connection-status")).not_to_have_text("Reconnecting…")
