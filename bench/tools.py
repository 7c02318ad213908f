"""The tools benchmark: what one MCP tool call costs chatsite, against real servers on
this machine (the SDK's MCPServer over Streamable HTTP, the reference time server over
stdio), one at a time and ten at once, and what loading the SDK costs a process.

    .venv/bin/python -m bench.tools --calls 50

Each call opens its own connection (or starts its own stdio process), as chatsite does:
a call belongs to the task that runs it, and the SDK closes it there. Writes a table
into docs/benchmarks.md.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DEBUG", "0")
django.setup()

from django.conf import settings  # noqa: E402

from bench.report import write  # noqa: E402
from bench.servers import ROOT  # noqa: E402
from chat.tools.config import ServerConfig  # noqa: E402
from tests.servers import free_port, stop, wait_for_port  # noqa: E402

SECRET = "bench-only-mcp-secret"  # noqa: S105 - a loopback test server's
TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")
# Measured in a new interpreter: what `import chat.tools.client` adds to a process.
IMPORT_COST = """
import resource, time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
import chat.tools.client
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _timed(config: ServerConfig, name: str, arguments: dict) -> float:
    from chat.tools.client import mcp_tool_call

    started = time.perf_counter()
    result = await mcp_tool_call(config, name, arguments, seconds=30, limit=10_000)
    assert not result.is_error, result.text
    return time.perf_counter() - started


async def _calls(config: ServerConfig, name: str, arguments: dict, count: int, at_once: int):
    times: list[float] = []
    started = time.perf_counter()
    for _ in range(0, count, at_once):
        times += await asyncio.gather(*(_timed(config, name, arguments) for _ in range(at_once)))
    return times, time.perf_counter() - started


def _row(label: str, times: list[float], wall: float) -> str:
    ms = [t * 1000 for t in times]
    return (
        f"| {label} | {len(ms)} | {_quantile(ms, 0.5):.0f} | {_quantile(ms, 0.95):.0f} "
        f"| {len(ms) / wall:.1f} |"
    )


def main(args: argparse.Namespace) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cost = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + IMPORT_COST],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    seconds, kilobytes = float(cost[0]), int(cost[1])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "mcp" / "http_server.py"), str(port), SECRET],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    settings.MCP_STDIO_SERVERS = {"time": {"command": TIME_SERVER, "args": []}}
    remote = ServerConfig(
        name="bench",
        url=f"http://127.0.0.1:{port}/mcp",
        headers={"X-MCP-Secret": SECRET},
        allow_private=True,
    )
    local = ServerConfig(name="time", stdio="time")
    rows = []
    try:
        wait_for_port(port, server)
        for label, config, name, arguments in (
            ("Streamable HTTP, `add`", remote, "add", {"a": 1, "b": 2}),
            ("stdio, `get_current_time`", local, "get_current_time", {"timezone": "UTC"}),
        ):
            for at_once in (1, 10):
                times, wall = asyncio.run(_calls(config, name, arguments, args.calls, at_once))
                rows.append(_row(f"{label}, {at_once} at once", times, wall))
                print(rows[-1])
    finally:
        stop(server)
    text = "\n".join(
        [
            f"`make bench-tools` (`--calls {args.calls}`), on this machine: each call a",
            "connection of its own (stdio: a process of its own), as chatsite makes them.",
            "",
            "| calls | n | p50 ms | p95 ms | calls/s |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Loading the SDK (`import chat.tools.client`) in a process: {seconds:.2f} s and",
            f"{kilobytes / 1024:.0f} MB of memory. chatsite imports it at the first tool call",
            "(in a thread), so a site without tools never pays it.",
        ]
    )
    write(ROOT / "docs" / "benchmarks.md", text, section="tools")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    main(parser.parse_args())
