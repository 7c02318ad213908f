"""Real MCP servers on the test machine: the reference `mcp-server-time` over stdio, and
the SDK's MCPServer over Streamable HTTP behind a secret header."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from chat.tools.addresses import AddressRefused
from chat.tools.client import ServerConfig, ServerUnavailable, mcp_tools_list
from tests.servers import ROOT, free_port, stop, wait_for_port

SECRET = "tests-only-mcp-secret"
TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "mcp" / "http_server.py"), str(port), SECRET],
        cwd=ROOT,
    )
    wait_for_port(port, process)
    yield f"http://127.0.0.1:{port}/mcp"
    stop(process)


@pytest.fixture
def time_server(settings) -> None:
    settings.MCP_STDIO_SERVERS = {
        "time": {"command": TIME_SERVER, "args": ["--local-timezone", "UTC"]}
    }


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
    assert set(listed(config)) == {"add", "slow", "big"}


def test_a_remote_server_refusing_the_secret_is_unavailable(http_server):
    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": "wrong"}, allow_private=True
    )
    with pytest.raises(ServerUnavailable, match="Tests"):
        listed(config)


def test_a_loopback_server_not_allowed_as_private_is_never_connected(http_server):
    config = ServerConfig(name="Tests", url=http_server, headers={"X-MCP-Secret": SECRET})
    with pytest.raises(AddressRefused, match="loopback or private"):
        listed(config)
