"""Real servers on loopback for the tests and the benchmark: the fake upstream and
chatsite as it is served."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
FAKE_API_KEY = "sk-test-fake-upstream-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_site(
    env: dict[str, str],
    app: str = "chatsite.asgi:application",
    *,
    port: int | None = None,
    **popen: Any,
) -> tuple[subprocess.Popen[bytes], int]:
    """chatsite (or another ASGI `app`) served as in production, daphne on uvloop, on
    `port` (a free one if not given)."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatsite.serve",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            app,
        ],
        cwd=ROOT,
        env=env,
        **popen,
    )
    wait_for_port(port, process)
    return process, port


class FakeUpstreamServer:
    """python -m chat.fake_upstream in its own process, driven over HTTP like any provider."""

    def __init__(self, *, api_key: str = FAKE_API_KEY, delay: float = 0.0) -> None:
        self.port = free_port()
        self.api_key = api_key
        self.root = f"http://127.0.0.1:{self.port}"
        # A prefix that is not /v1 proves chatsite never assumes one.
        self.base_url = f"{self.root}/openai/v1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chat.fake_upstream",
                "--port",
                str(self.port),
                "--api-key",
                api_key,
                "--delay",
                str(delay),
            ],
            cwd=ROOT,
        )
        wait_for_port(self.port, self.process)
        self.http = httpx.Client(base_url=self.root, timeout=10)

    def plan(self, **plan: Any) -> None:
        self.http.post("/_fake/plan", json=plan).raise_for_status()

    def log(self) -> list[dict[str, Any]]:
        response = self.http.get("/_fake/log")
        response.raise_for_status()
        return list(response.json())

    def wait_for_outcome(self, outcome: str, timeout: float = 5.0) -> dict[str, Any]:
        """The newest request's log entry, once it has this outcome (or the time is up)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log()
            if log and (log[-1]["outcome"] == outcome or time.monotonic() > deadline):
                return log[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"the upstream had no request in {timeout} s")
            time.sleep(0.05)

    def models_requests(self) -> int:
        response = self.http.get("/_fake/stats")
        response.raise_for_status()
        return int(response.json()["models_requests"])

    def embeddings_requests(self) -> list[int]:
        """How many inputs each POST /embeddings had, oldest first."""
        response = self.http.get("/_fake/stats")
        response.raise_for_status()
        return list(response.json()["embeddings_requests"])

    def embeddings_fail(self, count: int, status: int = 500) -> None:
        """The next `count` POST /embeddings answer `status`."""
        self.http.post("/_fake/embeddings_plan", json={"count": count, "status": status})

    def embeddings_slow(self, count: int, seconds: float) -> None:
        """The next `count` POST /embeddings answer after `seconds`."""
        self.http.post("/_fake/embeddings_plan", json={"count": count, "delay": seconds})

    def reset(self) -> None:
        self.http.post("/_fake/reset").raise_for_status()

    def close(self) -> None:
        self.http.close()
        stop(self.process)


def site_storage(workdir: Path) -> dict[str, str]:
    """Where a chatsite process under test keeps its data, apart from the test process's.

    SQLite: a file in workdir. On the services pass (DATABASE_URL, REDIS_URL set): a new
    PostgreSQL database and Redis database 1, since the test process uses database 0.
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {"SQLITE_PATH": str(workdir / "db.sqlite3")}
    import psycopg

    name = f"chatsite_site_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    storage = {"DATABASE_URL": url.rsplit("/", 1)[0] + "/" + name}
    if os.environ.get("REDIS_URL"):
        storage["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/1"
    return storage


def site_env(**extra: str) -> dict[str, str]:
    """The environment of a production-like chatsite process for tests."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "tests-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        # A title request after each first answer would change what tests and the
        # benchmark count; tests/browser/test_titles.py turns titles on for its site.
        "CHAT_AUTO_TITLES": "0",
    }
    env.update(extra)
    return env


def site_manage(env: dict[str, str], *args: str) -> None:
    """manage.py of a site under test; what it prints shows when something fails."""
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def site_sessions(env: dict[str, str], count: int) -> list[str]:
    """New users of a site under test, each logged in: their session keys."""
    made = subprocess.run(
        [sys.executable, "bench/users.py", str(count)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
    )
    return [str(key) for key in json.loads(made.stdout)]


def site_query(env: dict[str, str], code: str) -> Any:
    """Run Python in a site's Django (`result` = what to return as JSON) and return it."""
    script = f"import json\n{code}\nprint(json.dumps(result))"
    ran = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return json.loads(ran.stdout.decode().strip().splitlines()[-1])


def site_prepared(fake: FakeUpstreamServer, workdir: Path) -> tuple[dict[str, str], str]:
    """A migrated site on its own storage, talking to the fake upstream, and the session
    key of a logged-in user of it. Start its processes with start_site(env)."""
    env = site_env(
        **site_storage(workdir),
        LLM_BASE_URL=fake.base_url,
        LLM_API_KEY=fake.api_key,
        LLM_MODEL="chatsite-demo",
    )
    site_manage(env, "migrate", "--noinput", "--verbosity", "0")
    return env, site_sessions(env, 1)[0]


def site_socket(port: int, cookie: str | None) -> websockets.connect:
    """The chat websocket of a site process, logged in with that session (None: with no
    session cookie at all)."""
    return websockets.connect(
        f"ws://127.0.0.1:{port}/ws/chat/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={cookie}"} if cookie is not None else None,
    )


async def socket_frames_until(ws: Any, kind: str, timeout: float = 10) -> list[dict[str, Any]]:
    """Every frame a site socket receives up to and including the first of this kind."""
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != kind:
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    return frames


async def socket_next_frame(ws: Any, kinds: set[str], timeout: float = 20) -> dict[str, Any]:
    """The next frame of one of these kinds a site socket receives; others are skipped."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] in kinds:
            return dict(frame)


def site_on_own_redis(
    fake: "FakeUpstreamServer", workdir: Path
) -> tuple["RedisServer", dict[str, str], str]:
    """A site prepared as site_prepared does, on a redis-server of its own that the test may
    stop and start (never the shared one of the services pass): the server, the site's
    environment and a signed-in user's cookie."""
    redis = RedisServer(workdir)
    env, cookie = site_prepared(fake, workdir)
    env["REDIS_URL"] = redis.url
    return redis, env, cookie


async def sites_started(env: dict[str, str], count: int = 2) -> list[tuple[Any, int]]:
    """`count` server processes of one site (as behind a load balancer), started side by
    side: each with its port."""
    return list(await asyncio.gather(*(asyncio.to_thread(start_site, env) for _ in range(count))))


async def answer_watched(writer: Any, watcher: Any, content: str = "a long one") -> tuple[int, int]:
    """An answer asked for on one socket and followed, once it streams, from another (on
    another process, say); returns its conversation's id and its own."""
    await writer.send(json.dumps({"type": "send", "content": content}))
    started = await socket_frames_until(writer, "delta")
    conversation_id, message_id = started[0]["conversation"]["id"], started[-1]["message_id"]
    subscribe = {
        "type": "subscribe",
        "conversation_id": conversation_id,
        "streaming_ids": [message_id],
    }
    await watcher.send(json.dumps(subscribe))
    return conversation_id, message_id


class RedisServer:
    """A redis-server of the test's own on a free port, which the test stops and starts.

    Nothing is saved between its runs: a restart forgets every group and message, the
    worst case for chatsite.
    """

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class ScriptedUpstream:
    """An OpenAI-compatible upstream on loopback, in the test's own event loop, that
    streams exactly the chunks it is given: for what the fake upstream's plans cannot
    say (tool call pieces out of order, say). Use it with `async with`; point
    LLM_BASE_URL at base_url. Every chat request gets the same chunks, then [DONE]."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.chunks = chunks
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "ScriptedUpstream":
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            method, path, _ = head.split("\r\n", 1)[0].split(" ", 2)
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if method == "POST" and path.endswith("/chat/completions"):
                self.requests.append(json.loads(body))
                events = [json.dumps(chunk) for chunk in self.chunks] + ["[DONE]"]
                stream = "".join(f"data: {event}\n\n" for event in events).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Connection: close\r\n\r\n" + stream
                )
            else:
                models = {"object": "list", "data": [{"id": "chatsite-demo", "object": "model"}]}
                payload = json.dumps(models).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                    + payload
                )
            await writer.drain()
        finally:
            writer.close()


class OidcProvider:
    """A real OpenID Connect provider on loopback (tests/oidc/provider.mjs: node's
    `oidc-provider`, installed by `npm ci` from package-lock.json) with the given clients
    and users; `issuer` is its discovery base. `users_set` changes the users' claims for
    their next sign-in; `stop` and `start` take it down and bring it back on the same
    address (a new process: its sessions are gone, as after a real restart)."""

    def __init__(
        self,
        *,
        clients: list[dict[str, Any]],
        users: dict[str, dict[str, Any]],
        directory: Path,
        id_token_ttl: int = 3600,
        tamper: str = "",
    ) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.users_file = directory / f"oidc-users-{self.port}.json"
        self.users_set(users)
        self.env = {
            **os.environ,
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENTS": json.dumps(clients),
            "OIDC_USERS_FILE": str(self.users_file),
            "OIDC_ID_TOKEN_TTL": str(id_token_ttl),
            "OIDC_TAMPER": tamper,
        }
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["node", str(ROOT / "tests" / "oidc" / "provider.mjs")],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    def users_set(self, users: dict[str, dict[str, Any]]) -> None:
        self.users_file.write_text(json.dumps(users))

    def stop(self) -> None:
        stop(self.process)
