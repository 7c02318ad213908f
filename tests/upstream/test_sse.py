import pytest

from chat.upstream.errors import FailureKind, UpstreamError
from chat.upstream.events import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    ToolCallDelta,
    UsageReport,
)
from chat.upstream.sse import SseDecoder, parse_chunk


def payloads(*reads: bytes) -> list[bytes]:
    decoder = SseDecoder()
    return [payload for data in reads for payload in decoder.feed(data)]


def test_it_yields_each_data_line_payload_in_order():
    assert payloads(b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n') == [
        b'{"a":1}',
        b'{"b":2}',
        b"[DONE]",
    ]


def test_it_skips_keep_alive_comments_blank_lines_and_other_fields():
    body = b": keep-alive\n\nevent: message\nid: 7\nretry: 10\ndata: x\n\n"
    assert payloads(body) == [b"x"]


def test_it_accepts_data_without_a_space_after_the_colon():
    assert payloads(b'data:{"a":1}\n') == [b'{"a":1}']


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_it_accepts_every_line_end(newline):
    body = b"data: one" + newline + newline + b"data: two" + newline
    assert payloads(body) == [b"one", b"two"]


def test_a_line_cut_across_reads_is_joined():
    assert payloads(b"da", b'ta: {"a"', b":1}\n", b"data: [DONE]\n") == [b'{"a":1}', b"[DONE]"]


def test_a_crlf_cut_between_reads_makes_no_extra_payload():
    assert payloads(b"data: one\r", b"\ndata: two\r\n") == [b"one", b"two"]


def test_an_unfinished_line_waits_for_its_end():
    assert payloads(b"data: {no end yet") == []


def test_it_reads_content():
    chunk = '{"choices":[{"index":0,"delta":{"content":"Quiet"}}]}'
    assert parse_chunk(chunk) == [ContentDelta("Quiet")]


@pytest.mark.parametrize(
    "extra",
    ['"logprob":-Infinity', '"logprob":NaN', '"note":"\\ud83d"'],
    ids=["inf", "nan", "surrogate"],
)
def test_a_chunk_only_python_s_json_reads_is_still_read(extra):
    # Servers that write with Python's json.dumps may send -Infinity for a logprob.
    chunk = '{"choices":[{"index":0,"delta":{"content":"Quiet"},' + extra + "}]}"

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


@pytest.mark.parametrize(
    "piece",
    ['"not an object"', "[1]", '{"index":"first"}', '{"index":1.5}', '{"index":0,"function":"f"}'],
)
def test_a_tool_call_piece_of_the_wrong_shape_is_a_malformed_chunk_from_the_provider(piece):
    chunk = f'{{"choices":[{{"index":0,"delta":{{"tool_calls":[{piece}]}}}}]}}'
    with pytest.raises(UpstreamError) as caught:
        parse_chunk(chunk)
    assert caught.value.kind == FailureKind.MALFORMED
    assert caught.value.message == "The provider sent a malformed stream chunk."
