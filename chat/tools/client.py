"""One connection to an MCP server for one job (listing its tools, calling one), closed
in the task that opened it, as the SDK requires. Secrets go in the request headers of
our own httpx2 client and never into a log; a stdio server inherits none of the site's
environment (the SDK passes only HOME, PATH and the like, plus what the operator set)."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from django.conf import settings
from mcp import Client, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from chat.tools.addresses import mcp_url_check
from chat.tools.config import ServerConfig, ServerUnavailable, ToolListed, ToolResult


class PinnedTransport(httpx2.AsyncHTTPTransport):
    """Connects to the address the URL check approved, whatever the name resolves to now;
    the request keeps its Host header, and TLS its server name and certificate check."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.address = address

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        name = request.url.host
        request.url = request.url.copy_with(host=self.address)
        request.extensions = {**request.extensions, "sni_hostname": name}
        return await super().handle_async_request(request)


def _first_failure(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _stdio_parameters(name: str) -> StdioServerParameters:
    configured = settings.MCP_STDIO_SERVERS.get(name)
    if not isinstance(configured, dict) or not isinstance(configured.get("command"), str):
        raise ServerUnavailable(f"No local MCP server is configured as {name!r}.")
    return StdioServerParameters(
        command=configured["command"],
        args=[str(a) for a in configured.get("args", [])],
        env={str(k): str(v) for k, v in (configured.get("env") or {}).items()},
    )


@contextlib.asynccontextmanager
async def mcp_connected(config: ServerConfig) -> AsyncIterator[Client]:
    """A connected client (the handshake done), closed when the block ends. Raises
    AddressRefused for a URL in the site's own network, ServerUnavailable otherwise."""
    timeout = settings.MCP_CONNECT_TIMEOUT
    address = None
    if config.url:
        # Resolved again at each connection: a name may point elsewhere since it was saved.
        address = await asyncio.to_thread(
            mcp_url_check, config.url, allow_private=config.allow_private
        )
    # The SDK reports an HTTP refusal without its status: kept here to tell the admin.
    refused: list[int] = []

    async def seen(response: httpx2.Response) -> None:
        if response.status_code >= 400:
            refused.append(response.status_code)

    try:
        if config.stdio:
            # The server's own log goes nowhere: the SDK wants a real file for it.
            with open(os.devnull, "w") as errlog:  # noqa: ASYNC230 - /dev/null never blocks
                transport = stdio_client(_stdio_parameters(config.stdio), errlog=errlog)
                async with Client(transport, read_timeout_seconds=timeout) as client:
                    yield client
            return
        async with (
            httpx2.AsyncClient(
                transport=PinnedTransport(address) if address else None,
                headers=config.headers,
                timeout=httpx2.Timeout(timeout, read=max(timeout, 300.0)),
                follow_redirects=False,
                event_hooks={"response": [seen]},
            ) as http,
            Client(
                streamable_http_client(config.url, http_client=http),
                read_timeout_seconds=timeout,
            ) as client,
        ):
            yield client
    except* (MCPError, OSError, httpx2.HTTPError) as group:
        # The SDK's task groups wrap what went wrong, groups in groups: the first real
        # failure is what the admin sees.
        reason = str(_first_failure(group))
        if refused:
            reason = f"the server answered HTTP {refused[-1]}"
            if refused[-1] in (401, 403):
                reason += " (is the secret right?)"
        raise ServerUnavailable(f"{config.name}: {reason}") from None


async def mcp_tools_list(config: ServerConfig) -> list[ToolListed]:
    """Every tool the server lists (all pages)."""
    tools: list[ToolListed] = []
    async with mcp_connected(config) as client:
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools += [
                ToolListed(tool.name, tool.description or "", dict(tool.input_schema))
                for tool in page.tools
            ]
            cursor = page.next_cursor
            if not cursor:
                return tools


def _text_of(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    if kind == "resource":
        resource = block.resource
        return str(getattr(resource, "text", "") or f"[binary resource {resource.uri}]")
    return f"[{kind or 'unknown'} content not shown]"


async def mcp_tool_call(
    config: ServerConfig,
    name: str,
    arguments: dict[str, Any],
    *,
    seconds: float,
    limit: int,
) -> ToolResult:
    """Call one tool, for at most `seconds`. Cancelling the calling task (Stop) cancels
    the call: the SDK tells the server. Raises ServerUnavailable (also when the time is
    up)."""
    # Raised after the connection is closed: raised inside, the SDK's task groups would
    # wrap it in exception groups.
    failure: MCPError | None = None
    async with mcp_connected(config) as client:
        try:
            result = await client.call_tool(name, arguments, read_timeout_seconds=seconds)
        except MCPError as exc:
            failure = exc
    if failure is not None:
        raise ServerUnavailable(f"{config.name}: {failure.message}")
    text = "\n".join(_text_of(block) for block in result.content)
    return ToolResult(text=text[:limit], is_error=result.is_error, truncated=len(text) > limit)
