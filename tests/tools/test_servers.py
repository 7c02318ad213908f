"""An MCP server's tools, as the admin keeps them: listed from the real server, new ones
off until enabled, ones it no longer lists marked so, a failure kept to show."""

import pytest

from chat.models import McpServer, McpTool
from chat.services.tools.servers import mcp_server_tools_refresh
from chat.tools.client import ServerUnavailable

pytestmark = pytest.mark.django_db


@pytest.fixture
def time_row(time_server) -> McpServer:
    return McpServer.objects.create(slug="time", name="Time", stdio="time")


def test_a_server_s_tools_are_kept_off_until_enabled(time_row):
    assert mcp_server_tools_refresh(time_row) == 2

    tools = McpTool.objects.filter(server=time_row)
    assert sorted(t.name for t in tools) == ["convert_time", "get_current_time"]
    assert not any(t.enabled for t in tools)
    assert all(t.approval == McpTool.Approval.ASK for t in tools)
    time_row.refresh_from_db()
    assert time_row.tools_listed_at is not None


def test_a_tool_the_server_no_longer_lists_is_marked_and_kept(time_row):
    gone = McpTool.objects.create(server=time_row, name="removed_tool", enabled=True)
    mcp_server_tools_refresh(time_row)
    gone.refresh_from_db()
    assert gone.listed is False


def test_a_refresh_keeps_the_admin_s_choices(time_row):
    mcp_server_tools_refresh(time_row)
    McpTool.objects.filter(name="get_current_time").update(enabled=True, approval="auto")
    mcp_server_tools_refresh(time_row)
    tool = McpTool.objects.get(name="get_current_time")
    assert (tool.enabled, tool.approval) == (True, "auto")


def test_a_server_that_cannot_be_reached_keeps_the_error_to_show(settings):
    settings.MCP_STDIO_SERVERS = {"broken": {"command": "/nonexistent/mcp-server", "args": []}}
    server = McpServer.objects.create(slug="broken", name="Broken", stdio="broken")
    with pytest.raises(ServerUnavailable):
        mcp_server_tools_refresh(server)
    server.refresh_from_db()
    assert "Broken" in server.list_error


def test_the_admin_keeps_a_server_s_secret_encrypted_and_refuses_a_private_url(admin_client):
    from django.urls import reverse

    from chat.crypto import secret_decrypt

    fields = {
        "name": "Remote",
        "slug": "remote",
        "url": "http://10.0.0.5/mcp",
        "stdio": "",
        "secret_header": "Authorization",
        "secret": "Bearer mcp-secret-9876",
        "enabled": "on",
    }
    refused = admin_client.post(reverse("admin:chat_mcpserver_add"), fields)
    assert refused.status_code == 200
    assert "loopback or private" in refused.content.decode()
    assert not McpServer.objects.exists()

    made = admin_client.post(
        reverse("admin:chat_mcpserver_add"), {**fields, "url": "https://1.1.1.1/mcp"}
    )
    assert made.status_code == 302
    server = McpServer.objects.get()
    assert secret_decrypt(server.secret_encrypted) == "Bearer mcp-secret-9876"
    page = admin_client.get(
        reverse("admin:chat_mcpserver_change", args=[server.pk])
    ).content.decode()
    assert "mcp-secret-9876" not in page
    assert "…9876" in page


def test_a_server_s_secret_does_not_follow_its_url_to_another_host(admin_client):
    from django.urls import reverse

    from chat.crypto import secret_decrypt
    from chat.services.tools.servers import mcp_server_secret_set

    server = McpServer(slug="remote", name="Remote", url="https://1.1.1.1/mcp")
    server.secret_header = "Authorization"
    mcp_server_secret_set(server, "Bearer for-one-one-one-one")
    server.save()
    fields = {
        "name": "Remote",
        "slug": "remote",
        "stdio": "",
        "secret_header": "Authorization",
        "secret": "",
        "enabled": "on",
    }
    url = reverse("admin:chat_mcpserver_change", args=[server.pk])

    admin_client.post(url, {**fields, "url": "https://1.1.1.1/mcp/v2"})
    server.refresh_from_db()
    assert secret_decrypt(server.secret_encrypted) == "Bearer for-one-one-one-one"

    admin_client.post(url, {**fields, "url": "https://8.8.8.8/mcp"})
    server.refresh_from_db()
    assert server.url == "https://8.8.8.8/mcp"
    assert (server.secret_encrypted, server.secret_hint) == ("", "")
