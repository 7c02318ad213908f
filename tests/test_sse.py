import pytest

from chat.upstream.errors import UpstreamError
from chat.upstream.events import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    ToolCallDelta,
    UsageReport,
)
from chat.upstream.sse import iter_sse_data, parse_chunk


async def lines(*items: str):
    for item in items:
        yield item


async def collect(*items: str) -> list[str]:
    return [data async for data in iter_sse_data(lines(*items))]


async def test_it_yields_each_data_line_payload_in_order():
    assert await collect('data: {"a":1}', "", 'data: {"b":2}', "data: [DONE]") == [
        '{"a":1}',
        '{"b":2}',
        "[DONE]",
    ]


async def test_it_skips_keep_alive_comments_blank_lines_and_other_fields():
    assert await collect(": keep-alive", "", "event: message", "id: 7", "retry: 10", "data: x") == [
        "x"
    ]


async def test_it_accepts_data_without_a_space_after_the_colon():
    assert await collect('data:{"a":1}') == ['{"a":1}']


def test_it_reads_content():
    chunk = '{"choices":[{"index":0,"delta":{"content":"Quiet"}}]}'
    assert parse_chunk(chunk) == [ContentDelta("Quiet")]


def test_the_role_chunk_with_empty_content_yields_nothing():
    assert parse_chunk('{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}') == []


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_it_reads_reasoning_under_either_name(field):
    chunk = f'{{"choices":[{{"index":0,"delta":{{"{field}":"hmm"}}}}]}}'
    assert parse_chunk(chunk) == [ReasoningDelta("hmm")]


def test_it_reads_tool_call_pieces_with_their_index():
    chunk = (
        '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1",'
        '"type":"function","function":{"name":"get_weather","arguments":"{\\"lo"}}]}}]}'
    )
    assert parse_chunk(chunk) == [
        ToolCallDelta(index=1, id="call_1", name="get_weather", arguments='{"lo')
    ]


@pytest.mark.parametrize("reason", ["stop", "length", "tool_calls", "content_filter"])
def test_it_reads_every_finish_reason(reason):
    chunk = f'{{"choices":[{{"index":0,"delta":{{}},"finish_reason":"{reason}"}}]}}'
    assert parse_chunk(chunk) == [Finish(reason)]


def test_it_reads_the_usage_chunk_with_cached_and_reasoning_tokens():
    chunk = (
        '{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,'
        '"prompt_tokens_details":{"cached_tokens":8},'
        '"completion_tokens_details":{"reasoning_tokens":20}}}'
    )
    assert parse_chunk(chunk) == [UsageReport(12, 30, cached_tokens=8, reasoning_tokens=20)]


def test_a_usage_chunk_without_details_counts_zero_cached_and_reasoning():
    chunk = '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}'
    assert parse_chunk(chunk) == [UsageReport(1, 2)]


def test_it_ignores_choices_other_than_the_first():
    assert parse_chunk('{"choices":[{"index":1,"delta":{"content":"other"}}]}') == []


def test_a_mid_stream_error_event_raises_with_the_providers_message():
    with pytest.raises(UpstreamError) as caught:
        parse_chunk('{"error":{"message":"Upstream overloaded","type":"server_error"}}')
    assert caught.value.message == "Upstream overloaded"
    assert caught.value.retryable is False


@pytest.mark.parametrize("payload", ["{not json", '"a string"', "[1]"])
def test_a_malformed_chunk_raises(payload):
    with pytest.raises(UpstreamError, match="malformed"):
        parse_chunk(payload)
