"""Real MCP servers on the test machine: the reference `mcp-server-time` over stdio, and
the SDK's MCPServer over Streamable HTTP behind a secret header."""

import httpx2
import pytest
from asgiref.sync import async_to_sync

from chat.tools.addresses import AddressRefused
from chat.tools.client import PinnedTransport, mcp_tool_call, mcp_tools_list
from chat.tools.config import ServerConfig, ServerUnavailable
from tests.conftest import MCP_SECRET as SECRET


def listed(config: ServerConfig) -> dict[str, dict]:
    return {t.name: t.input_schema for t in async_to_sync(mcp_tools_list)(config)}


def test_a_local_server_s_tools_are_listed_with_their_schemas(time_server):
    tools = listed(ServerConfig(name="Time", stdio="time"))
    assert set(tools) == {"get_current_time", "convert_time"}
    assert tools["get_current_time"]["required"] == ["timezone"]


def test_a_local_server_the_operator_did_not_configure_is_refused(time_server):
    with pytest.raises(ServerUnavailable, match="No local MCP server"):
        listed(ServerConfig(name="Shell", stdio="sh"))


def test_a_remote_server_s_tools_are_listed_with_its_secret(http_server):
    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": SECRET}, allow_private=True
    )
    assert set(listed(config)) == {"add", "slow", "big", "echo", "cancellations"}


def test_a_remote_server_refusing_the_secret_is_unavailable(http_server):
    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": "wrong"}, allow_private=True
    )
    with pytest.raises(ServerUnavailable, match=r"Tests: the server answered HTTP 401"):
        listed(config)


def test_a_loopback_server_not_allowed_as_private_is_never_connected(http_server):
    config = ServerConfig(name="Tests", url=http_server, headers={"X-MCP-Secret": SECRET})
    with pytest.raises(AddressRefused, match="loopback or private"):
        listed(config)


def test_a_tool_is_called_and_its_text_comes_back(time_server):
    result = async_to_sync(mcp_tool_call)(
        ServerConfig(name="Time", stdio="time"),
        "get_current_time",
        {"timezone": "Europe/Berlin"},
        seconds=10,
        limit=10_000,
    )
    assert result.is_error is False
    assert "Europe/Berlin" in result.text


def test_a_long_result_is_cut_to_the_limit(http_server):
    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": SECRET}, allow_private=True
    )
    result = async_to_sync(mcp_tool_call)(config, "big", {"size": 50_000}, seconds=10, limit=1_000)
    assert len(result.text) == 1_000
    assert result.truncated is True


def test_a_tool_over_its_time_is_unavailable_not_waited_for(http_server):
    import time

    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": SECRET}, allow_private=True
    )
    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match="timed out"):
        async_to_sync(mcp_tool_call)(config, "slow", {"seconds": 30}, seconds=0.5, limit=100)
    assert time.monotonic() - started < 5


def test_stop_cancels_a_running_call(http_server):
    import asyncio

    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": SECRET}, allow_private=True
    )

    async def stopped() -> float:
        call = asyncio.create_task(
            mcp_tool_call(config, "slow", {"seconds": 30}, seconds=60, limit=100)
        )
        await asyncio.sleep(1.0)
        started = asyncio.get_running_loop().time()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(stopped()) < 3


def test_a_connection_goes_to_the_address_that_was_checked_whatever_the_name(upstream):
    # The name resolves nowhere: only the pinned address can answer, with the Host kept.
    port = upstream.base_url.split(":")[2].split("/")[0]

    async def get() -> int:
        transport = PinnedTransport("127.0.0.1")
        async with httpx2.AsyncClient(transport=transport) as http:
            response = await http.get(f"http://mcp.invalid:{port}/v1/models")
            return response.status_code

    assert async_to_sync(get)() == 401  # the fake's answer to a request without its key
    assert upstream.models_requests() == 1
