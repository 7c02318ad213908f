"""The upstream client against the fake upstream, a real HTTP server on loopback, read by
each HTTP client chatsite can use: every fault must end the same way with either."""

import asyncio

import pytest

from chat.upstream.client import (
    RetryPolicy,
    UpstreamClient,
    _embeddings_parsed,
    retry_after_seconds,
)
from chat.upstream.errors import FailureKind, UpstreamError
from chat.upstream.events import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    Retrying,
    ToolCallDelta,
    UsageReport,
)
from chat.upstream.provider import Provider
from chat.upstream.transport import HTTP_CLIENTS
from tests.servers import FAKE_API_KEY, free_port


@pytest.fixture(autouse=True, params=HTTP_CLIENTS)
def http_client_name(request, settings) -> str:
    settings.LLM_HTTP_CLIENT = request.param
    return request.param


QUICK = RetryPolicy(attempts=3, base_delay=0.01, max_wait=5)
ONCE = RetryPolicy(attempts=1, base_delay=0, max_wait=0)


def client_for(
    upstream, retry: RetryPolicy = QUICK, api_key: str = FAKE_API_KEY, read_every: float = 0.0
):
    provider = Provider(name="fake", base_url=upstream.base_url, api_key=api_key)
    return UpstreamClient(provider, retry, read_every=read_every)


async def stream(client: UpstreamClient) -> list:
    body = {"model": "chatsite-demo", "messages": [{"role": "user", "content": "hi"}]}
    return [event async for event in client.stream_chat(body)]


async def stream_until_failure(client: UpstreamClient) -> tuple[list, UpstreamError]:
    events: list = []
    body = {"model": "chatsite-demo", "messages": [{"role": "user", "content": "hi"}]}
    try:
        async for event in client.stream_chat(body):
            events.append(event)
    except UpstreamError as error:
        return events, error
    pytest.fail("the stream did not fail")


def contents(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


async def test_it_streams_typed_events_ending_with_finish_and_usage(upstream):
    upstream.plan(tokens=3, reasoning=2, cached_tokens=1)
    assert await stream(client_for(upstream)) == [
        ReasoningDelta("r0 "),
        ReasoningDelta("r1 "),
        ContentDelta("t0 "),
        ContentDelta("t1 "),
        ContentDelta("t2 "),
        Finish("stop"),
        UsageReport(prompt_tokens=4, completion_tokens=5, cached_tokens=1, reasoning_tokens=2),
    ]
    assert upstream.log()[0]["body"]["stream_options"] == {"include_usage": True}


async def test_the_fake_streams_given_text_and_reasoning_word_by_word(upstream):
    upstream.plan(text="# Title\n\nSome **bold** text.\n", reasoning_text="Let me see.")
    events = await stream(client_for(upstream))

    reasoning = [e.text for e in events if isinstance(e, ReasoningDelta)]
    assert reasoning == ["Let ", "me ", "see."]
    assert contents(events) == "# Title\n\nSome **bold** text.\n"
    assert len([e for e in events if isinstance(e, ContentDelta)]) == 5


async def test_keep_alive_comments_and_crlf_line_ends_change_nothing(upstream):
    upstream.plan(tokens=3, keepalive=True, crlf=True)
    events = await stream(client_for(upstream))
    assert contents(events) == "t0 t1 t2 "
    assert Finish("stop") in events


async def test_inline_think_tags_become_reasoning_even_cut_across_chunks(upstream):
    upstream.plan(tokens=2, think=True)
    events = await stream(client_for(upstream))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning == "pondering deeply"
    assert contents(events) == "t0 t1 "


async def test_tool_call_pieces_keep_their_index_id_and_name(upstream):
    upstream.plan(tokens=0, tool_calls=[{"name": "get_weather", "arguments": '{"city":"Oslo"}'}])
    events = await stream(client_for(upstream))
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert pieces[0] == ToolCallDelta(index=0, id="call_0", name="get_weather", arguments="")
    assert "".join(p.arguments for p in pieces) == '{"city":"Oslo"}'
    assert {p.index for p in pieces} == {0}


@pytest.mark.parametrize("reason", ["length", "content_filter", "tool_calls"])
async def test_every_finish_reason_reaches_the_caller(upstream, reason):
    upstream.plan(tokens=1, finish_reason=reason)
    assert Finish(reason) in await stream(client_for(upstream))


async def test_a_stream_that_just_ends_has_no_finish(upstream):
    upstream.plan(tokens=3, finish_reason="", done=False, usage=False)
    events = await stream(client_for(upstream))
    assert contents(events) == "t0 t1 t2 "
    assert not any(isinstance(e, Finish | UsageReport) for e in events)


async def test_a_rejected_key_is_not_retried_and_shows_the_providers_words(upstream):
    events, error = await stream_until_failure(client_for(upstream, api_key="sk-nope"))
    assert events == []
    assert (error.status_code, error.retryable, error.kind) == (401, False, FailureKind.STATUS)
    assert error.message == "Incorrect API key provided."
    assert len(upstream.log()) == 1


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (403, False), (404, False), (429, True), (503, True)]
)
async def test_http_errors_say_whether_a_retry_makes_sense(upstream, status, retryable):
    upstream.plan(status=status, error_message=f"failed with {status}")
    _, error = await stream_until_failure(client_for(upstream, ONCE))
    assert (error.status_code, error.retryable) == (status, retryable)
    assert error.message == f"failed with {status}"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_never_retried(upstream, status):
    upstream.plan(status=status)
    events, _ = await stream_until_failure(client_for(upstream))
    assert events == []
    assert len(upstream.log()) == 1


async def test_a_429_is_retried_after_the_providers_retry_after(upstream):
    upstream.plan(status=429, retry_after="0.2", error_message="Slow down")
    upstream.plan(tokens=2)
    events = await stream(client_for(upstream))
    assert events[0] == Retrying(attempt=1, delay=0.2, message="Slow down", status_code=429)
    assert contents(events) == "t0 t1 "
    assert len(upstream.log()) == 2


async def test_5xx_is_retried_with_backoff_until_the_attempts_run_out(upstream):
    for _ in range(3):
        upstream.plan(status=503, error_message="Overloaded")
    events, error = await stream_until_failure(client_for(upstream))
    assert [e.attempt for e in events] == [1, 2]
    assert all(isinstance(e, Retrying) and e.status_code == 503 for e in events)
    assert (error.status_code, error.message) == (503, "Overloaded")
    assert len(upstream.log()) == 3


async def test_a_retry_after_past_the_waiting_budget_fails_at_once(upstream):
    upstream.plan(status=429, retry_after="600")
    events, error = await stream_until_failure(client_for(upstream))
    assert events == []
    assert error.status_code == 429
    assert len(upstream.log()) == 1


async def test_a_refused_connection_is_retried_then_reported():
    closed = f"http://127.0.0.1:{free_port()}/v1"
    client = UpstreamClient(Provider(name="nowhere", base_url=closed), QUICK)
    events, error = await stream_until_failure(client)
    assert [type(e) for e in events] == [Retrying, Retrying]
    assert (error.kind, error.status_code) == (FailureKind.CONNECT, None)
    assert error.message == "Could not connect to the provider."


async def test_a_connection_dropped_before_the_first_token_is_retried(upstream):
    upstream.plan(tokens=2, drop_after=0)
    upstream.plan(tokens=2)
    events = await stream(client_for(upstream))
    assert isinstance(events[0], Retrying)
    assert contents(events) == "t0 t1 "
    assert [entry["outcome"] for entry in upstream.log()] == ["dropped", "complete"]


async def test_a_connection_dropped_after_the_first_token_is_never_retried(upstream):
    upstream.plan(tokens=10, drop_after=3)
    events, error = await stream_until_failure(client_for(upstream))
    assert contents(events) == "t0 t1 t2 "
    assert error.kind == FailureKind.DROPPED
    assert len(upstream.log()) == 1


async def test_what_came_just_before_a_break_is_kept_and_not_retried(upstream):
    # After a token that was waited for, the next read comes 0.3 s later: by then the
    # last tokens and the break wait together, and the tokens come first all the same.
    upstream.plan(tokens=10, stall_after=1, stall=0.05, drop_after=5, delay=0.01)
    events, error = await stream_until_failure(client_for(upstream, read_every=0.3))
    assert contents(events) == "t0 t1 t2 t3 t4 "
    assert error.kind == FailureKind.DROPPED
    assert error.reached
    assert len(upstream.log()) == 1


async def test_a_break_after_the_end_of_the_answer_changes_nothing(upstream):
    upstream.plan(tokens=3, drop_after_done=True)
    events = await stream(client_for(upstream))
    assert contents(events) == "t0 t1 t2 "
    assert events[-2:] == [Finish("stop"), UsageReport(4, 3, 0, 0)]
    assert len(upstream.log()) == 1


async def test_a_netrc_file_is_never_read_nor_sent(upstream, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    upstream.plan(tokens=2)
    assert contents(await stream(client_for(upstream))) == "t0 t1 "
    assert upstream.log()[-1]["authorized"]  # the provider's key, not the file's login


def test_proxies_come_from_the_environment_except_where_no_proxy_says(monkeypatch):
    from chat.upstream.transport import _proxy_for

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert _proxy_for("https://api.example/v1/chat/completions") == "http://proxy.example:3128"
    assert _proxy_for("https://internal.example/v1/chat/completions") is None


async def test_a_mid_stream_error_event_ends_the_stream_unretried(upstream):
    upstream.plan(tokens=10, error_after=2, error_message="Model overloaded")
    events, error = await stream_until_failure(client_for(upstream))
    assert contents(events) == "t0 t1 "
    assert (error.kind, error.message) == (FailureKind.PROVIDER, "Model overloaded")
    assert len(upstream.log()) == 1


async def test_a_malformed_chunk_ends_the_stream_unretried(upstream):
    upstream.plan(tokens=10, malformed_after=2)
    events, error = await stream_until_failure(client_for(upstream))
    assert contents(events) == "t0 t1 "
    assert error.kind == FailureKind.MALFORMED
    assert len(upstream.log()) == 1


async def test_a_stalled_stream_times_out(upstream, settings):
    settings.LLM_READ_TIMEOUT = 0.3
    upstream.plan(tokens=5, stall_after=2, stall=3)
    events, error = await stream_until_failure(client_for(upstream))
    assert contents(events) == "t0 t1 "
    assert error.kind == FailureKind.STALLED
    assert error.message == "The provider sent nothing for 0.3 seconds."


# The last piece may be the start of a <think> tag, so the splitter holds it back.
CUT_AT_A_POSSIBLE_TAG = ["Check ", "whether ", "i ", "<", "more"]


@pytest.mark.parametrize(
    ("ending", "kind"),
    [
        ({"drop_after": 4}, FailureKind.DROPPED),
        ({"error_after": 4}, FailureKind.PROVIDER),
        ({"malformed_after": 4}, FailureKind.MALFORMED),
        ({"stall_after": 4, "stall": 3}, FailureKind.STALLED),
    ],
)
async def test_a_tail_held_back_for_a_possible_tag_is_kept_when_the_stream_fails(
    upstream, settings, ending, kind
):
    settings.LLM_READ_TIMEOUT = 0.3
    upstream.plan(pieces=CUT_AT_A_POSSIBLE_TAG, **ending)
    events, error = await stream_until_failure(client_for(upstream))
    assert error.kind == kind
    assert contents(events) == "Check whether i <"


async def test_a_tail_held_back_for_a_possible_tag_is_kept_when_the_caller_stops(upstream):
    upstream.plan(pieces=CUT_AT_A_POSSIBLE_TAG, stall_after=4, stall=3)
    client = client_for(upstream)
    body = {"model": "chatsite-demo", "messages": [{"role": "user", "content": "hi"}]}
    events = aiter(client.stream_chat(body))
    seen: list = []
    while contents(seen) != "Check whether i ":
        seen.append(await anext(events))
    # Stop while the stream is silent, after the "<" was read and held back.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(events), 0.5)
    await events.aclose()
    assert client.held_back() == [ContentDelta("<")]


async def test_a_provider_refusing_stream_options_is_asked_again_without_and_remembered(
    upstream,
):
    upstream.plan(tokens=2, reject_stream_options=True)
    upstream.plan(tokens=1)
    client = client_for(upstream)
    first = await stream(client)
    second = await stream(client)

    assert isinstance(first[0], Retrying)
    assert contents(first) == "t0 t1 "
    assert not any(isinstance(e, UsageReport) for e in first + second)
    sent = [("stream_options" in entry["body"]) for entry in upstream.log()]
    assert sent == [True, False, False]


async def test_an_error_message_never_carries_the_api_key(upstream):
    upstream.plan(status=400, error_message=f"bad key {FAKE_API_KEY} given")
    _, error = await stream_until_failure(client_for(upstream))
    assert error.message == "bad key [redacted] given"


async def test_it_lists_the_providers_models(upstream):
    assert await client_for(upstream).list_models() == ["chatsite-demo", "chatsite-demo-large"]


async def test_it_asks_for_embeddings_and_gets_one_vector_per_input_in_order(upstream):
    vectors, tokens = await client_for(upstream).embeddings(
        "e", ["a car", "a automobile", "a zebra"]
    )

    assert len(vectors) == 3
    assert vectors[0] == vectors[1]  # the fake's words of one meaning
    assert vectors[0] != vectors[2]
    assert tokens == 6
    assert upstream.embeddings_requests() == [3]


async def test_a_failed_embeddings_request_is_an_upstream_error_with_the_providers_words(
    upstream,
):
    upstream.embeddings_fail(1, status=400)

    with pytest.raises(UpstreamError) as failed:
        await client_for(upstream).embeddings("e", ["a"])

    assert failed.value.status_code == 400
    assert "told to fail" in failed.value.message


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b'{"data": [{"index": 0, "embedding": [1.0]}]}',  # one vector for two inputs
        b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}',
        b'{"data": [{"index": -1, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}',
        b'{"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": [1.0]}]}',
        b'{"data": [{"index": 0, "embedding": ["a"]}, {"index": 1, "embedding": [1.0]}]}',
        b'{"data": [{"index": 0, "embedding": "12"}, {"index": 1, "embedding": "34"}]}',
        b'{"data": [{"index": true, "embedding": [1]}, {"index": 0, "embedding": [1]}]}',
        b'{"data": [{"index": 1e999, "embedding": [1]}, {"index": 0, "embedding": [1]}]}',
        b'{"data": [{"index": 0, "embedding": [1]}, {"index": 1, "embedding": [1, 2]}]}',
        b'{"data": [{"index": 0, "embedding": [1' + b"0" * 400 + b"]}, "
        b'{"index": 1, "embedding": [1]}]}',  # too large for a float
        b'{"data": [{"index": 0, "embedding": [1]}, {"index": 1, "embedding": [1]}], '
        b'"usage": {"prompt_tokens": -3}}',
        b"[" * 100_000 + b"]" * 100_000,  # nested too deep to read
    ],
)
def test_an_embeddings_answer_that_is_not_one_vector_per_input_is_malformed(answer):
    with pytest.raises(UpstreamError) as failed:
        _embeddings_parsed(answer, 2)

    assert failed.value.kind == FailureKind.MALFORMED


def test_embeddings_come_back_in_the_inputs_order_whatever_order_they_are_sent_in():
    answer = b'{"data": [{"index": 1, "embedding": [2]}, {"index": 0, "embedding": [1]}]}'

    assert _embeddings_parsed(answer, 2) == ([[1.0], [2.0]], 0)


@pytest.mark.parametrize(
    ("header", "seconds"), [(None, None), ("3", 3.0), ("0.5", 0.5), ("-1", 0.0), ("soon", None)]
)
def test_retry_after_is_read_as_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_may_be_an_http_date():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


class TestPacedReads:
    """Once tokens flow, the body is read about every `read_every` seconds: what arrives
    in between comes in one network read instead of one read per token."""

    @pytest.fixture
    def network_reads(self, monkeypatch, http_client_name) -> list[int]:
        reads = [0]
        if http_client_name == "httpx":
            from httpcore._backends.anyio import AnyIOStream as Reader

            name = "read"
        else:
            from aiohttp import StreamReader as Reader  # type: ignore[assignment]

            name = "readany"
        real_read = getattr(Reader, name)

        async def counted(stream, *args, **kwargs):
            reads[0] += 1
            return await real_read(stream, *args, **kwargs)

        monkeypatch.setattr(Reader, name, counted)
        return reads

    async def test_tokens_after_the_first_come_in_a_few_reads_and_in_order(
        self, upstream, network_reads
    ):
        upstream.plan(tokens=40, delay=0.005)
        events = await stream(client_for(upstream, read_every=0.05))
        assert contents(events) == "".join(f"t{i} " for i in range(40))
        assert events[-2:] == [Finish("stop"), UsageReport(4, 40, 0, 0)]
        # 40 pieces 5 ms apart last 0.2 s: a read per 50 ms, not one per piece.
        assert network_reads[0] < 15

    async def test_without_pacing_each_piece_is_its_own_read(self, upstream, network_reads):
        upstream.plan(tokens=40, delay=0.005)
        assert contents(await stream(client_for(upstream, read_every=0))).startswith("t0 t1 ")
        assert network_reads[0] >= 40

    async def test_the_first_token_is_not_held_back(self, upstream):
        import time

        upstream.plan(tokens=3, delay=0.01)
        body = {"model": "chatsite-demo", "messages": [{"role": "user", "content": "hi"}]}
        started = time.monotonic()
        async for event in client_for(upstream, read_every=3.0).stream_chat(body):
            if isinstance(event, ContentDelta):
                # The pause comes after the first token, never before it.
                assert time.monotonic() - started < 3.0
                break
