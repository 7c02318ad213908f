"""The API benchmark: the same streamed chat completions asked straight of the upstream
and through chatsite's OpenAI-compatible API (/v1, a personal key), side by side.

    .venv/bin/python -m bench.api --streams 20 --tokens 200 --pace 0.005

Starts the fake upstream and chatsite under daphne (SQLite; PostgreSQL with
DATABASE_URL), makes a user and a key, and writes a table into docs/benchmarks.md: the
time to first token chatsite adds (its key check, limits check and call record, before
the upstream is asked) and the throughput both ways.
"""

import argparse
import tempfile
from pathlib import Path

import uvloop

from bench import load
from bench.report import write
from bench.servers import ROOT, cpu_seconds, site_env, start_fake_upstream
from tests.servers import site_manage, site_query, site_storage, stop
from tests.servers import start_site as serve

MAKE_KEY = """
from chat.models import User
from chat.services.api.keys import api_key_create
user, _ = User.objects.get_or_create(username="bench-api")
result = api_key_create(user=user, name="bench").secret
"""


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, samples: list[load.Sample], wall: float, cpu: float | None) -> str:
    ttfts = [s.ttft * 1000 for s in samples]
    tokens = sum(s.tokens for s in samples)
    return (
        f"| {name} | {len(samples):,} | {_quantile(ttfts, 0.5):.1f} | {_quantile(ttfts, 0.95):.1f} "
        f"| {tokens / wall:,.0f} | {'' if cpu is None else f'{cpu:.1f}'} |"
    )


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="chatsite-bench-api-"))
    write_log = workdir / "db-writes.log"
    fake, base_url = start_fake_upstream(tokens=args.tokens, pace=args.pace)
    env = site_env(storage=site_storage(workdir), base_url=base_url, write_log=write_log)
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    key = str(site_query(env, MAKE_KEY))
    server, port = serve(env)
    api = f"http://127.0.0.1:{port}/v1"
    stagger = args.tokens * args.pace
    try:
        print("warming up")
        for url, secret in ((base_url, load.API_KEY), (api, key)):
            await load.direct(
                base_url=url, clients=args.streams, seconds=args.warmup, stagger=stagger, key=secret
            )
        print(f"direct: {args.streams} clients for {args.seconds} s")
        direct, direct_wall = await load.direct(
            base_url=base_url, clients=args.streams, seconds=args.seconds, stagger=stagger
        )
        print("through /v1")
        cpu_before = cpu_seconds([server.pid])
        relayed, relayed_wall = await load.direct(
            base_url=api, clients=args.streams, seconds=args.seconds, stagger=stagger, key=key
        )
        cpu = cpu_seconds([server.pid]) - cpu_before
    finally:
        stop(server)
        stop(fake)

    engine = "PostgreSQL" if "DATABASE_URL" in env else "SQLite"
    ratio = (sum(s.tokens for s in relayed) / relayed_wall) / (
        sum(s.tokens for s in direct) / direct_wall
    )
    added = [
        _quantile([s.ttft for s in relayed], q) - _quantile([s.ttft for s in direct], q)
        for q in (0.5, 0.95)
    ]
    text = (
        f"{args.streams} concurrent clients, each asking for one streamed completion of "
        f"{args.tokens} tokens ({args.pace * 1000:g} ms apart) after another for "
        f"{args.seconds:g} s; one chatsite process on {engine}; every request checked "
        "against the key, the limits and budgets, and recorded in the ledger.\n"
        f"Command: `.venv/bin/python -m bench.api --streams {args.streams} --tokens "
        f"{args.tokens} --pace {args.pace} --seconds {args.seconds:g}`.\n\n"
        "| path | completions | TTFT p50 (ms) | TTFT p95 (ms) | tokens/s | server CPU s |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        f"{_row('upstream directly', direct, direct_wall, None)}\n"
        f"{_row('chatsite /v1', relayed, relayed_wall, cpu)}\n\n"
        f"Added time to first token: {added[0] * 1000:.1f} ms at the median, "
        f"{added[1] * 1000:.1f} ms at p95; throughput through /v1 is "
        f"{ratio:.0%} of direct.\n"
    )
    print(text)
    if args.write:
        write(ROOT / "docs" / "benchmarks.md", text, section="api")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.005, help="seconds between tokens")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--no-write", dest="write", action="store_false")
    uvloop.run(main(parser.parse_args()))
