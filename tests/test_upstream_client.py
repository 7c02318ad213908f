"""The upstream client against the fake upstream, a real HTTP server on loopback."""

import pytest

from chat.upstream.client import UpstreamClient
from chat.upstream.errors import UpstreamError
from chat.upstream.events import ContentDelta, Finish, ReasoningDelta, UsageReport
from chat.upstream.provider import Provider
from tests.servers import FAKE_API_KEY, free_port


@pytest.fixture
def client(upstream) -> UpstreamClient:
    return UpstreamClient(Provider(name="fake", base_url=upstream.base_url, api_key=FAKE_API_KEY))


async def stream(client: UpstreamClient) -> list:
    body = {"model": "chatsite-demo", "messages": [{"role": "user", "content": "hi"}]}
    return [event async for event in client.stream_chat(body)]


async def test_it_streams_typed_events_ending_with_finish_and_usage(client, upstream):
    upstream.plan(tokens=3, reasoning=2)
    events = await stream(client)
    assert events == [
        ReasoningDelta("r0 "),
        ReasoningDelta("r1 "),
        ContentDelta("t0 "),
        ContentDelta("t1 "),
        ContentDelta("t2 "),
        Finish("stop"),
        UsageReport(prompt_tokens=4, completion_tokens=5, reasoning_tokens=2),
    ]


async def test_a_rejected_key_raises_a_non_retryable_error_with_the_providers_words(upstream):
    client = UpstreamClient(Provider(name="fake", base_url=upstream.base_url, api_key="sk-nope"))
    with pytest.raises(UpstreamError) as caught:
        await stream(client)
    assert caught.value.status_code == 401
    assert caught.value.retryable is False
    assert caught.value.message == "Incorrect API key provided."


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (404, False), (429, True), (503, True)]
)
async def test_http_errors_say_whether_a_retry_makes_sense(client, upstream, status, retryable):
    upstream.plan(status=status, error_message=f"failed with {status}")
    with pytest.raises(UpstreamError) as caught:
        await stream(client)
    assert caught.value.status_code == status
    assert caught.value.retryable is retryable
    assert caught.value.message == f"failed with {status}"


async def test_an_error_message_never_carries_the_api_key(client, upstream):
    upstream.plan(status=400, error_message=f"bad key {FAKE_API_KEY} given")
    with pytest.raises(UpstreamError) as caught:
        await stream(client)
    assert FAKE_API_KEY not in caught.value.message
    assert caught.value.message == "bad key [redacted] given"


async def test_a_refused_connection_is_a_retryable_error():
    closed = f"http://127.0.0.1:{free_port()}/v1"
    client = UpstreamClient(Provider(name="nowhere", base_url=closed))
    with pytest.raises(UpstreamError) as caught:
        await stream(client)
    assert caught.value.retryable is True
    assert caught.value.status_code is None


async def test_it_lists_the_providers_models(client):
    assert await client.list_models() == ["chatsite-demo", "chatsite-demo-large"]
