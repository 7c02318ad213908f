"""The official `openai` package, pointed at a chatsite process (daphne, as in
production) whose provider is the fake upstream: the models a key may use, completions
streamed and not, errors in OpenAI's format, the ledger, limits and revocation."""

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.browser.conftest import Site, site_serving
from tests.servers import FakeUpstreamServer, site_query, site_storage

MAKE_KEY = """
from chat.models import User
from chat.services.api.keys import api_key_create
user, _ = User.objects.get_or_create(username={username!r})
result = api_key_create(user=user, name="script").secret
"""


@pytest.fixture(scope="module")
def site(
    fake_upstream_server: FakeUpstreamServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    storage = site_storage(Path(tmp_path_factory.mktemp("api")))
    with site_serving(fake_upstream_server, storage) as site:
        yield site


@pytest.fixture
def upstream(fake_upstream_server: FakeUpstreamServer) -> FakeUpstreamServer:
    fake_upstream_server.reset()
    return fake_upstream_server


def key_for(site: Site, username: str) -> str:
    return str(site_query(site.env, MAKE_KEY.format(username=username)))


def client(site: Site, key: str, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{site.url}/v1", api_key=key, max_retries=0, **options)


def ledger(site: Site, username: str) -> list[dict[str, Any]]:
    code = f"""
from chat.models import Usage
result = list(Usage.objects.filter(user__username={username!r}).order_by("id").values(
    "purpose", "api_key__name", "status", "prompt_tokens", "completion_tokens", "estimated"))
"""
    return list(site_query(site.env, code))


def ledger_settled(site: Site, username: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        rows = ledger(site, username)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_models_lists_what_the_user_may_use(site: Site, upstream):
    models = client(site, key_for(site, "ada")).models.list()
    assert [m.id for m in models.data] == ["chatsite-demo", "chatsite-demo-large"]


def test_a_completion_is_answered_and_recorded_in_the_ledger_with_its_key(site: Site, upstream):
    upstream.plan(text="Hello from the provider.")
    completion = client(site, key_for(site, "bea")).chat.completions.create(
        model="chatsite-demo", messages=[{"role": "user", "content": "Hi"}]
    )

    assert completion.choices[0].message.content == "Hello from the provider."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "chatsite-demo"
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    (row,) = ledger_settled(site, "bea", 1)
    assert row["purpose"] == "api"
    assert row["api_key__name"] == "script"
    assert row["status"] == "complete"
    assert row["completion_tokens"] == completion.usage.completion_tokens
    assert row["estimated"] is False
    sent = upstream.log()[-1]["body"]
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]


def test_a_stream_comes_chunk_by_chunk_with_usage_when_asked(site: Site, upstream):
    upstream.plan(pieces=["One", " two", " three."])
    stream = client(site, key_for(site, "cy")).chat.completions.create(
        model="chatsite-demo",
        messages=[{"role": "user", "content": "Count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three."
    assert chunks[-1].usage is not None, "the usage chunk comes last when asked for"
    assert (
        ledger_settled(site, "cy", 1)[0]["completion_tokens"] == chunks[-1].usage.completion_tokens
    )


def test_a_stream_without_include_usage_has_no_usage_chunk(site: Site, upstream):
    upstream.plan(pieces=["a", "b"])
    chunks = list(
        client(site, key_for(site, "dee")).chat.completions.create(
            model="chatsite-demo", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert ledger_settled(site, "dee", 1)[0]["estimated"] is False, "billed from the provider's"


def test_tool_calls_come_back_whole(site: Site, upstream):
    upstream.plan(
        tool_calls=[{"name": "weather", "arguments": '{"city": "Oslo"}'}],
        finish_reason="tool_calls",
    )
    completion = client(site, key_for(site, "eli")).chat.completions.create(
        model="chatsite-demo",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[
            {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
        ],
    )
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    assert upstream.log()[-1]["body"]["tools"][0]["function"]["name"] == "weather"


def test_a_wrong_key_or_another_header_is_refused(site: Site, upstream):
    with pytest.raises(openai.AuthenticationError):
        client(site, "csk-not-a-key").models.list()
    key = key_for(site, "fay")
    import httpx

    refused = httpx.get(f"{site.url}/v1/models", headers={"X-Api-Key": key})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"


def test_an_unknown_model_is_a_404(site: Site, upstream):
    with pytest.raises(openai.NotFoundError):
        client(site, key_for(site, "gus")).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )


def test_a_revoked_key_is_refused_at_its_next_request(site: Site, upstream):
    key = key_for(site, "hal")
    api = client(site, key)
    api.models.list()
    site_query(
        site.env,
        "from chat.models import ApiKey\nfrom django.utils import timezone\n"
        "result = ApiKey.objects.filter(user__username='hal').update(revoked_at=timezone.now())",
    )
    with pytest.raises(openai.AuthenticationError):
        api.models.list()


def test_a_used_budget_is_a_429_with_retry_after(site: Site, upstream):
    key = key_for(site, "ivy")
    site_query(
        site.env,
        "from chat.models import User, UserLimits\n"
        "UserLimits.objects.create(user=User.objects.get(username='ivy'), monthly_tokens=1)\n"
        "from chat.services.usage.ledger import UsageCounts, usage_record\n"
        "usage_record(user_id=User.objects.get(username='ivy').pk, conversation_id=None,"
        " message_id=None, purpose='answer', provider='default', model='chatsite-demo',"
        " status='complete', counts=UsageCounts(prompt_tokens=5, completion_tokens=5))\n"
        "result = 1",
    )
    with pytest.raises(openai.RateLimitError) as refused:
        client(site, key).chat.completions.create(
            model="chatsite-demo", messages=[{"role": "user", "content": "x"}]
        )
    assert int(refused.value.response.headers["Retry-After"]) > 0
    assert "tokens this month, of your" in refused.value.message


def test_a_failing_provider_is_a_5xx(site: Site, upstream):
    for _ in range(5):
        upstream.plan(status=500)
    with pytest.raises(openai.InternalServerError):
        client(site, key_for(site, "jon")).chat.completions.create(
            model="chatsite-demo", messages=[{"role": "user", "content": "x"}]
        )


def test_a_client_leaving_mid_stream_closes_the_upstream_and_is_billed(site: Site, upstream):
    upstream.plan(tokens=400, delay=0.02)
    stream = client(site, key_for(site, "kim")).chat.completions.create(
        model="chatsite-demo", messages=[{"role": "user", "content": "long"}], stream=True
    )
    for i, _ in enumerate(stream):
        if i == 5:
            break
    stream.close()

    entry = upstream.wait_for_outcome("disconnected", timeout=10)
    assert entry["outcome"] == "disconnected"
    (row,) = ledger_settled(site, "kim", 1)
    assert row["status"] == "interrupted"
    assert row["completion_tokens"] > 0, "what was generated is billed"


def test_concurrent_requests_cannot_all_take_the_last_of_a_budget(site: Site, upstream):
    key = key_for(site, "lou")
    site_query(
        site.env,
        "from chat.models import User, UserLimits\n"
        "UserLimits.objects.create(user=User.objects.get(username='lou'), monthly_tokens=10_000)\n"
        "result = 1",
    )
    for _ in range(8):
        upstream.plan(tokens=100, delay=0.02)

    async def one(api: openai.AsyncOpenAI) -> str:
        try:
            await api.chat.completions.create(
                model="chatsite-demo", messages=[{"role": "user", "content": "x"}]
            )
        except openai.RateLimitError:
            return "refused"
        return "answered"

    async def burst() -> list[str]:
        api = openai.AsyncOpenAI(base_url=f"{site.url}/v1", api_key=key, max_retries=0)
        return await asyncio.gather(*(one(api) for _ in range(8)))

    outcomes = asyncio.run(burst())
    # 10,000 tokens, each request in flight holding 4,000 (BUDGET_HOLD_TOKENS): three
    # fit (0, 4,000 and 8,000 held when they start), the rest wait for the budget.
    assert outcomes.count("answered") == 3
    assert outcomes.count("refused") == 5


def test_a_provider_failing_before_the_first_token_is_retried(site: Site, upstream):
    upstream.plan(status=503, retry_after="0")
    upstream.plan(text="Second time lucky.")
    completion = client(site, key_for(site, "max")).chat.completions.create(
        model="chatsite-demo", messages=[{"role": "user", "content": "x"}]
    )
    assert completion.choices[0].message.content == "Second time lucky."
    assert len(upstream.log()) == 2


def test_a_stream_the_provider_breaks_ends_with_an_error_and_is_recorded(site: Site, upstream):
    upstream.plan(tokens=50, drop_after=5)
    stream = client(site, key_for(site, "ned")).chat.completions.create(
        model="chatsite-demo", messages=[{"role": "user", "content": "x"}], stream=True
    )
    received: list[Any] = []
    with pytest.raises(openai.APIError):
        received.extend(stream)
    assert received, "what came before the break was passed on"
    (row,) = ledger_settled(site, "ned", 1)
    assert row["status"] == "error"
    assert row["completion_tokens"] > 0, "what was generated is billed"


def test_no_conversation_is_stored_for_an_api_call(site: Site, upstream):
    upstream.plan(text="ok")
    client(site, key_for(site, "ola")).chat.completions.create(
        model="chatsite-demo", messages=[{"role": "user", "content": "private"}]
    )
    code = (
        "from chat.models import Conversation, Message\n"
        "result = [Conversation.objects.filter(user__username='ola').count(),"
        " Message.objects.filter(content='private').count()]"
    )
    assert site_query(site.env, code) == [0, 0]


def test_a_stream_the_provider_refuses_at_once_gets_its_status_not_a_stream(site: Site, upstream):
    for _ in range(5):
        upstream.plan(status=429, retry_after="1")
    with pytest.raises(openai.RateLimitError) as refused:
        client(site, key_for(site, "pia")).chat.completions.create(
            model="chatsite-demo", messages=[{"role": "user", "content": "x"}], stream=True
        )
    assert refused.value.response.headers["Retry-After"] == "1"
    (row,) = ledger_settled(site, "pia", 1)
    assert row["status"] == "error", "a refused request is a ledger row too"
    assert row["prompt_tokens"] == row["completion_tokens"] == 0


def test_a_request_the_provider_finds_bad_is_a_400(site: Site, upstream):
    upstream.plan(status=400, error_message="max_tokens is too large")
    with pytest.raises(openai.BadRequestError, match="max_tokens is too large"):
        client(site, key_for(site, "quin")).chat.completions.create(
            model="chatsite-demo", messages=[{"role": "user", "content": "x"}], max_tokens=10**9
        )


def test_a_body_that_cannot_go_on_as_json_is_a_400(site: Site, upstream):
    import httpx

    key = key_for(site, "rex")
    refused = httpx.post(
        f"{site.url}/v1/chat/completions",
        content=b'{"model": "chatsite-demo", "messages": [{"role": "user", "content": "x"}],'
        b' "temperature": NaN}',
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"


def test_a_router_s_fallback_fields_do_not_reach_the_provider(site: Site, upstream):
    upstream.plan(text="ok")
    client(site, key_for(site, "sam")).chat.completions.create(
        model="chatsite-demo",
        messages=[{"role": "user", "content": "x"}],
        temperature=0.2,
        extra_body={
            "models": ["some/other-model"],
            "provider": {"order": ["x"]},
            "route": "fallback",
        },
    )
    sent = upstream.log()[-1]["body"]
    assert sent["temperature"] == 0.2, "the request's parameters are passed on"
    assert not {"models", "provider", "route"} & set(sent)
