"""Serve the fake upstream on loopback: python -m chat.fake_upstream --port 8001"""

import argparse

import uvicorn

from chat.fake_upstream.app import FakeUpstream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", default="", help="require this bearer key")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between tokens")
    parser.add_argument("--tokens", type=int, default=None, help="tokens per answer")
    args = parser.parse_args()
    app = FakeUpstream(api_key=args.api_key, token_delay=args.delay, tokens=args.tokens)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
