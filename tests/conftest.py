import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.test import Client
from django.utils import translation

from chat.models import Conversation, Usage, User
from chat.realtime.generation import generations_running
from chat.services.usage.ledger import Price, UsageCounts, prices_forget, usage_record
from chat.services.usage.limits import group_limits_forget, site_settings_forget
from chat.upstream.client import forget_refusals
from chat.upstream.model_list import models_forget
from tests.servers import FAKE_API_KEY, ROOT, FakeUpstreamServer, free_port, stop, wait_for_port


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A test that activates a language (or fails inside an override) leaves the next
    one in the site's default language."""
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstreamServer]:
    server = FakeUpstreamServer()
    yield server
    server.close()


@pytest.fixture
def upstream(fake_upstream_server: FakeUpstreamServer, settings) -> FakeUpstreamServer:
    """chatsite pointed at the fake upstream, with an empty plan queue and log."""
    fake_upstream_server.reset()
    settings.LLM_BASE_URL = fake_upstream_server.base_url
    settings.LLM_API_KEY = FAKE_API_KEY
    settings.LLM_MODEL = "chatsite-demo"
    return fake_upstream_server


# Real MCP servers on the test machine: the reference `mcp-server-time` over stdio, and
# the SDK's MCPServer (tests/mcp/http_server.py) over Streamable HTTP behind a secret.
MCP_SECRET = "tests-only-mcp-secret"
TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")


@pytest.fixture(scope="session")
def http_server() -> Iterator[str]:
    """The URL of the Streamable HTTP server, which answers only with X-MCP-Secret."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "mcp" / "http_server.py"), str(port), MCP_SECRET],
        cwd=ROOT,
    )
    wait_for_port(port, process)
    yield f"http://127.0.0.1:{port}/mcp"
    stop(process)


@pytest.fixture
def time_server(settings) -> None:
    """The operator configured the reference time server as the stdio server "time"."""
    settings.MCP_STDIO_SERVERS = {
        "time": {"command": TIME_SERVER, "args": ["--local-timezone", "UTC"]}
    }


@pytest.fixture(autouse=True)
def quick_retries(settings) -> Iterator[None]:
    settings.LLM_RETRY_BASE_DELAY = 0.01
    forget_refusals()
    yield
    forget_refusals()


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    # Cached per process for a few seconds: each test starts from its own database's rows
    # (a rolled-back test deletes them without telling the caches).
    for forget in (site_settings_forget, models_forget, prices_forget, group_limits_forget):
        forget()
    yield
    for forget in (site_settings_forget, models_forget, prices_forget, group_limits_forget):
        forget()


@pytest.fixture(autouse=True)
def no_auto_titles(settings) -> None:
    # A title is one more upstream request after a first answer; the tests of titles
    # turn it on, the rest count requests without it.
    settings.CHAT_AUTO_TITLES = False


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # The real hasher is slow on purpose; tests only need passwords that check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    # Each test runs its own event loop; a layer's queues must not outlive it, and on
    # Redis no group or message of an earlier test may linger.
    if os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def alice(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(username="alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(username="bob", password="bob-password-1")


def usage_spent(
    user: User,
    *,
    prompt: int,
    completion: int,
    model: str = "m",
    status: str = "complete",
    conversation: Conversation | None = None,
    price: Price | None = None,
) -> Usage:
    """A ledger row (and its daily totals) as a finished answer would write it."""
    return usage_record(
        user_id=user.pk,
        conversation_id=conversation.pk if conversation else None,
        message_id=None,
        purpose="answer",
        provider="p",
        model=model,
        status=status,
        counts=UsageCounts(prompt_tokens=prompt, completion_tokens=completion),
        price=price,
    )


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def generations_settle(timeout: float = 20.0) -> None:
    """Wait for every generation of this process to finish and save."""
    tasks = [g.task for g in generations_running() if g.task is not None]
    if tasks:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running in this thread while a browser is
    # open; the asyncio tests must all have run before the first browser test starts.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
