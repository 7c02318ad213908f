"""The relay benchmark: one command, every figure a ratio of relay to direct.

    .venv/bin/python -m bench.relay --streams 100 --tokens 200 --pace 0.005 --idle 1000

With DATABASE_URL and REDIS_URL set (make services starts both), the server runs on
PostgreSQL and Redis, and --processes N starts N server processes.

Starts the fake upstream and chatsite under daphne, sends N closed-loop clients straight
to the upstream, through a bare relay (bench/bare_relay.py: the floor), and through
chatsite over websockets (without and with idle sockets open), and writes a table and a
plot into docs/benchmarks.md.
"""

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvloop

from bench import load
from bench.report import Phase, plot, table, write
from bench.servers import (
    ROOT,
    cpu_seconds,
    rss_bytes,
    site_env,
    start_fake_upstream,
    start_site,
)
from chat.upstream.transport import AIOHTTP, HTTP_CLIENTS
from tests.servers import site_manage, site_sessions, site_storage, stop


async def sample_rss(pids: list[int], peak: list[int], stop_at: float) -> None:
    while time.monotonic() < stop_at:
        peak[0] = max(peak[0], rss_bytes(pids))
        await asyncio.sleep(0.1)


async def relay_phase(
    name: str,
    pids: list[int],
    write_log: Path,
    cookies: list[str],
    sites: list[str],
    seconds: float,
    stagger: float,
    follow_ups: bool = True,
) -> Phase:
    rss_before, cpu_before = rss_bytes(pids), cpu_seconds(pids)
    writes_before = len(write_log.read_text().splitlines())
    peak = [rss_before]
    sampler = asyncio.create_task(sample_rss(pids, peak, time.monotonic() + seconds + 5))
    samples, wall = await load.relay(
        sites=sites, cookies=cookies, seconds=seconds, stagger=stagger, follow_ups=follow_ups
    )
    sampler.cancel()
    await asyncio.sleep(0.5)  # the last answers' final saves
    return Phase(
        name=name,
        samples=samples,
        wall=wall,
        cpu=cpu_seconds(pids) - cpu_before,
        peak_rss=peak[0],
        rss_before=rss_before,
        db_writes=len(write_log.read_text().splitlines()) - writes_before,
    )


async def bare_phase(
    env: dict[str, str],
    write_log: Path,
    cookies: list[str],
    seconds: float,
    stagger: float,
    http_client: str,
) -> Phase:
    """The same load through bench/bare_relay.py, reading the provider with this HTTP
    client: the floor under chatsite's figures."""
    env = {**env, "LLM_HTTP_CLIENT": http_client}
    server, port = start_site(env, app="bench.bare_relay:application")
    try:
        site = f"http://127.0.0.1:{port}"
        await load.relay(sites=[site], cookies=cookies, seconds=2, stagger=stagger)  # warm-up
        return await relay_phase(
            f"bare relay, {http_client}", [server.pid], write_log, cookies, [site], seconds, stagger
        )
    finally:
        stop(server)


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="chatsite-bench-"))
    write_log = workdir / "db-writes.log"
    write_log.touch()
    fake, base_url = start_fake_upstream(tokens=args.tokens, pace=args.pace)
    # SQLite and the in-process layer; with DATABASE_URL and REDIS_URL set, PostgreSQL and
    # Redis (a fresh database), which --processes above 1 needs.
    env = site_env(storage=site_storage(workdir), base_url=base_url, write_log=write_log)
    env["LLM_HTTP_CLIENT"] = args.http_client
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    cookies = site_sessions(env, args.streams)
    servers = [start_site(env) for _ in range(args.processes)]
    pids = [server.pid for server, _ in servers]
    sites = [f"http://127.0.0.1:{port}" for _, port in servers]
    try:
        stagger = args.tokens * args.pace  # one answer's length
        print("warming up")
        await load.relay(
            sites=sites,
            cookies=cookies,
            seconds=args.warmup,
            stagger=stagger,
            follow_ups=args.follow_ups,
        )
        await load.direct(
            base_url=base_url, clients=args.streams, seconds=args.warmup, stagger=stagger
        )
        print(f"direct: {args.streams} clients for {args.seconds} s")
        samples, wall = await load.direct(
            base_url=base_url, clients=args.streams, seconds=args.seconds, stagger=stagger
        )
        direct = Phase("direct", samples, wall)
        bares = []
        for http_client in HTTP_CLIENTS:
            print(f"bare relay, {http_client}")
            bares.append(
                await bare_phase(env, write_log, cookies, args.seconds, stagger, http_client)
            )
        print("relay")
        profiler = None
        if args.profile:
            # Profile before optimising: where the server's time goes under this load.
            profiler = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--format",
                    "speedscope",
                    "-o",
                    args.profile,
                    "-p",
                    str(pids[0]),
                    "--nonblocking",
                    # Only the thread holding the GIL: where the one core's time goes,
                    # without the database thread's waits for the GIL counted as work.
                    *(["--gil"] if args.profile_gil else []),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        relay = await relay_phase(
            "relay", pids, write_log, cookies, sites, args.seconds, stagger, args.follow_ups
        )
        if profiler:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        print("stop latency")
        stops = await load.stop_latency(sites=sites, cookies=cookies)
        fake_root = base_url.rsplit("/v1", 1)[0]
        async with httpx.AsyncClient(timeout=60) as http:
            fake_log = (await http.get(f"{fake_root}/_fake/log")).json()
        closes = load.upstream_close_delays(stops, fake_log)
        print(f"opening {args.idle} idle sockets")
        rss_before_idle = rss_bytes(pids)
        idle = await load.open_idle(sites=sites, cookies=cookies, count=args.idle)
        await asyncio.sleep(1)
        idle_rss = rss_bytes(pids) - rss_before_idle
        print("relay with idle sockets")
        relay_idle = await relay_phase(
            f"relay, {args.idle:,} idle",
            pids,
            write_log,
            cookies,
            sites,
            args.seconds,
            stagger,
            args.follow_ups,
        )
        await load.close_all(idle)
    finally:
        for server, _ in servers:
            stop(server)
        stop(fake)

    relays = [*bares, relay, relay_idle]
    engines = "PostgreSQL and Redis" if "REDIS_URL" in env else "SQLite"
    text = table(
        direct,
        relays,
        streams=args.streams,
        idle=args.idle,
        idle_rss=idle_rss,
        stops=[s.to_stopped for s in stops],
        closes=closes,
    )
    header = (
        f"{args.streams} concurrent streams of {args.tokens} tokens paced {args.pace * 1000:g} ms "
        f"apart, {args.seconds:g} s per phase, persistence and usage recording on, "
        f"{args.processes} server process(es) on {engines}, chatsite reading the provider "
        f"with {args.http_client}. Each "
        "client asks for one answer after another, "
        + (
            "each a follow-up in the client's one conversation"
            if args.follow_ups
            else "each in a new conversation"
        )
        + "; their starts are spread over one answer's length, the same for direct and relay.\n"
        f"Command: `make bench ARGS='--streams {args.streams} --tokens {args.tokens} "
        f"--pace {args.pace} --idle {args.idle} --seconds {args.seconds:g}"
        + ("" if args.follow_ups else " --new-conversations")
        + (f" --processes {args.processes}" if args.processes > 1 else "")
        + (f" --http-client {args.http_client}" if args.http_client != AIOHTTP else "")
        + "'`."
        "\n\n![Time to first token and throughput](benchmarks-relay.png)\n\n"
    )
    print(text)
    if args.write:
        plot(direct, relays, ROOT / "docs" / "benchmarks-relay.png")
        write(ROOT / "docs" / "benchmarks.md", header + text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.005, help="seconds between tokens")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument(
        "--new-conversations",
        dest="follow_ups",
        action="store_false",
        help="each answer in a new conversation (default: follow-ups in one per client)",
    )
    parser.add_argument(
        "--http-client",
        choices=HTTP_CLIENTS,
        default=AIOHTTP,
        help="the client chatsite reads the provider with (the floor is measured with both)",
    )
    parser.add_argument("--profile", help="write a py-spy profile of the relay phase here")
    parser.add_argument(
        "--profile-gil", action="store_true", help="profile only the thread holding the GIL"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes (above 1: PostgreSQL, Redis)"
    )
    uvloop.run(main(parser.parse_args()))
