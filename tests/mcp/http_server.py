"""A real MCP server over Streamable HTTP for the tools tests: the official SDK's
MCPServer under uvicorn on loopback, answering only requests with the secret header.

    python tests/mcp/http_server.py PORT SECRET
"""

import asyncio
import sys
from typing import Any

import uvicorn
from mcp.server import MCPServer

server = MCPServer("chatsite-tests")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


# Calls of `slow` the client cancelled (Stop): the server was told, and stopped it.
cancelled = 0


@server.tool()
async def slow(seconds: float) -> str:
    """Wait, then say so (for timeouts and Stop)."""
    global cancelled
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        cancelled += 1
        raise
    return f"waited {seconds} s"


@server.tool()
def cancellations() -> int:
    """How many calls of slow were cancelled by their client."""
    return cancelled


@server.tool()
def big(size: int) -> str:
    """A long text (for size limits)."""
    return "x" * size


@server.tool()
def echo(text: str) -> str:
    """Give the text back as it came (for what a page does with a tool's markup)."""
    return text


def guarded(app: Any, secret: str) -> Any:
    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"x-mcp-secret", b"").decode() != secret:
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"no"})
                return
        await app(scope, receive, send)

    return asgi


if __name__ == "__main__":
    port, secret = int(sys.argv[1]), sys.argv[2]
    app = guarded(server.streamable_http_app(host="127.0.0.1"), secret)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
