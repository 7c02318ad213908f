"""An MCP server as the admin keeps it: its secret encrypted, its URL checked when saved,
and its tools listed (kept off until an admin enables each)."""

from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone

from chat.crypto import secret_decrypt, secret_encrypt, secret_hint
from chat.models import McpServer, McpTool
from chat.tools.config import ServerConfig, ServerUnavailable, ToolListed


def mcp_server_secret_set(server: McpServer, secret: str) -> None:
    """Keep the secret encrypted, and a hint of it to show; never the secret."""
    server.secret_encrypted = secret_encrypt(secret)
    server.secret_hint = secret_hint(secret)


def mcp_server_config(server: McpServer) -> ServerConfig:
    secret = secret_decrypt(server.secret_encrypted)
    headers = {server.secret_header: secret} if server.secret_header and secret else {}
    return ServerConfig(
        name=server.name,
        url=server.url,
        stdio=server.stdio,
        headers=headers,
        allow_private=server.allow_private,
    )


def mcp_server_tools_refresh(server: McpServer) -> int:
    """Ask the server for its tools and keep them: new ones off, gone ones marked as no
    longer listed. Returns how many it lists; a failure is kept on the server's row
    (shown in the admin) and raised."""
    from chat.tools.client import mcp_tools_list  # the SDK, loaded on first use

    try:
        listed = async_to_sync(mcp_tools_list)(mcp_server_config(server))
    except ServerUnavailable as exc:
        McpServer.objects.filter(pk=server.pk).update(list_error=str(exc))
        raise
    _tools_save(server, listed)
    return len(listed)


@transaction.atomic
def _tools_save(server: McpServer, listed: list[ToolListed]) -> None:
    names = {tool.name for tool in listed}
    for tool in listed:
        McpTool.objects.update_or_create(
            server=server,
            name=tool.name,
            defaults={
                "description": tool.description,
                "input_schema": tool.input_schema,
                "listed": True,
            },
        )
    McpTool.objects.filter(server=server).exclude(name__in=names).update(listed=False)
    McpServer.objects.filter(pk=server.pk).update(tools_listed_at=timezone.now(), list_error="")
