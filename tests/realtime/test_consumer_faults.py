"""Every fault of ../shared/api/README.md, end to end: what the user sees, what is stored,
and the usage rows. The fake upstream injects each one as a real HTTP server."""

import asyncio
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from chat.models import Message, Usage
from chat.services.answers.interruptions import streams_interrupt_stale
from tests.conftest import generations_settle
from tests.servers import free_port
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def ask(user, content: str = "hi", conversation_id: int | None = None) -> list[dict]:
    ws = await connect(user)
    await ws.send_json_to({"type": "send", "content": content, "conversation_id": conversation_id})
    frames = await receive_until(ws, "done")
    await ws.disconnect()
    return frames


async def stored(frames: list[dict]) -> tuple[Message, list[Usage]]:
    message = await Message.objects.aget(pk=frames[-1]["message_id"])
    usage = [u async for u in Usage.objects.filter(message=message).order_by("created_at", "id")]
    return message, usage


def of_type(frames: list[dict], kind: str) -> list[dict]:
    return [f for f in frames if f["type"] == kind]


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_a_client_error_shows_the_providers_message_unretried(upstream, alice, status):
    upstream.plan(status=status, error_message=f"Model says no ({status})")
    frames = await ask(alice)
    message, usage = await stored(frames)

    assert (frames[-1]["status"], frames[-1]["error"]) == ("error", f"Model says no ({status})")
    assert of_type(frames, "retrying") == []
    assert (message.status, message.error) == ("error", f"Model says no ({status})")
    assert [(u.status, u.prompt_tokens, u.completion_tokens, u.estimated) for u in usage] == [
        ("error", 0, 0, False)
    ]
    assert len(upstream.log()) == 1


async def test_a_429_is_retried_the_user_sees_it_and_each_request_has_a_usage_row(upstream, alice):
    upstream.plan(status=429, retry_after="0.3", error_message="Rate limit reached")
    upstream.plan(tokens=4)
    frames = await ask(alice)
    message, usage = await stored(frames)

    (retrying,) = of_type(frames, "retrying")
    assert (retrying["attempt"], retrying["delay"], retrying["reason"]) == (
        1,
        0.3,
        "Rate limit reached",
    )
    assert frames[-1]["status"] == "complete"
    assert message.content == "t0 t1 t2 t3 "
    assert [(u.status, u.completion_tokens, u.estimated) for u in usage] == [
        ("error", 0, False),
        ("complete", 4, False),
    ]


async def test_a_provider_that_stays_down_ends_in_an_error_after_bounded_retries(
    upstream, alice, settings
):
    settings.LLM_RETRY_ATTEMPTS = 3
    for _ in range(3):
        upstream.plan(status=503, error_message="Service unavailable")
    frames = await ask(alice)
    message, usage = await stored(frames)

    assert len(of_type(frames, "retrying")) == 2
    assert (frames[-1]["status"], frames[-1]["error"]) == ("error", "Service unavailable")
    assert message.status == "error"
    assert len(usage) == 3
    assert sum(u.prompt_tokens + u.completion_tokens for u in usage) == 0


async def test_an_unreachable_provider_is_retried_then_reported(alice, settings):
    settings.LLM_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"
    settings.LLM_MODEL = "m"
    settings.LLM_RETRY_ATTEMPTS = 2
    frames = await ask(alice)
    message, usage = await stored(frames)

    assert len(of_type(frames, "retrying")) == 1
    assert frames[-1]["error"] == "Could not connect to the provider."
    assert message.status == "error"
    assert [u.completion_tokens for u in usage] == [0, 0]


async def test_a_connection_reset_before_the_first_token_is_retried(upstream, alice):
    upstream.plan(tokens=3, drop_after=0)
    upstream.plan(tokens=3)
    frames = await ask(alice)

    assert len(of_type(frames, "retrying")) == 1
    assert (frames[-1]["status"], frames[-1]["content"]) == ("complete", "t0 t1 t2 ")


async def test_an_attempt_dropped_after_it_began_streaming_bills_an_estimated_prompt(
    upstream, alice
):
    upstream.plan(tokens=3, drop_after=0)  # HTTP 200 and the role chunk, then the drop
    upstream.plan(tokens=3)
    frames = await ask(alice, "the provider read this prompt")
    _, (dropped, answered) = await stored(frames)

    assert frames[-1]["status"] == "complete"
    assert (dropped.status, dropped.completion_tokens, dropped.estimated) == ("error", 0, True)
    assert dropped.prompt_tokens > 0
    assert (answered.status, answered.estimated) == ("complete", False)


async def test_a_connection_dropped_mid_answer_keeps_the_part_as_incomplete(upstream, alice):
    upstream.plan(tokens=20, drop_after=5)
    frames = await ask(alice)
    message, usage = await stored(frames)

    assert frames[-1]["status"] == "incomplete"
    assert frames[-1]["error"].startswith("The connection to the provider broke")
    assert message.content == "t0 t1 t2 t3 t4 "
    assert message.status == "incomplete"
    assert of_type(frames, "retrying") == [], "never retried after the first token"
    assert len(upstream.log()) == 1
    ((usage_row),) = usage
    assert usage_row.estimated is True
    assert usage_row.completion_tokens > 0


async def test_a_stream_ending_without_finish_or_done_is_incomplete_never_complete(upstream, alice):
    upstream.plan(tokens=6, finish_reason="", done=False, usage=False)
    frames = await ask(alice)
    message, (usage_row,) = await stored(frames)

    assert frames[-1]["status"] == "incomplete"
    assert message.status == "incomplete"
    assert message.content == "t0 t1 t2 t3 t4 t5 "
    assert message.finish_reason == ""
    assert usage_row.estimated is True


async def test_a_malformed_chunk_keeps_the_part_with_an_error_and_the_billed_usage(upstream, alice):
    upstream.plan(tokens=10, malformed_after=3)
    frames = await ask(alice)
    message, (usage,) = await stored(frames)

    assert (frames[-1]["status"], frames[-1]["error"]) == (
        "error",
        "The provider sent a malformed stream chunk.",
    )
    assert message.content == "t0 t1 t2 "
    assert len(upstream.log()) == 1
    # The rest of the stream was read for its usage chunk: the bill, not an estimate.
    billed = upstream.log()[0]["usage_sent"]
    assert (usage.completion_tokens, usage.estimated) == (billed["completion_tokens"], False)


async def test_a_stalled_stream_is_cut_at_the_read_timeout_and_kept(upstream, alice, settings):
    settings.LLM_READ_TIMEOUT = 0.5
    upstream.plan(tokens=10, stall_after=3, stall=5)
    frames = await ask(alice)
    message, _ = await stored(frames)

    assert frames[-1]["status"] == "incomplete"
    assert frames[-1]["error"] == "The provider sent nothing for 0.5 seconds."
    assert message.content == "t0 t1 t2 "


# The last piece may be the start of a <think> tag, so the splitter holds it back.
CUT_AT_A_POSSIBLE_TAG = ["Check ", "whether ", "i ", "<", "more"]


@pytest.mark.parametrize(
    "ending",
    [
        {"drop_after": 4},
        {"error_after": 4},
        {"malformed_after": 4},
        {"stall_after": 4, "stall": 5},
    ],
    ids=["dropped", "error event", "malformed chunk", "stalled"],
)
async def test_a_tail_held_back_for_a_possible_tag_is_stored_however_the_stream_fails(
    upstream, alice, settings, ending
):
    settings.LLM_READ_TIMEOUT = 0.5
    upstream.plan(pieces=CUT_AT_A_POSSIBLE_TAG, **ending)
    frames = await ask(alice)
    message, _ = await stored(frames)

    assert message.content == frames[-1]["content"] == "Check whether i <"


async def test_a_tail_held_back_for_a_possible_tag_is_stored_when_the_user_stops(upstream, alice):
    upstream.plan(pieces=CUT_AT_A_POSSIBLE_TAG, stall_after=4, stall=20)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    shown = ""
    while shown != "Check whether i ":
        frame = (await receive_until(ws, "delta"))[-1]
        shown += frame["content"]
    await asyncio.sleep(0.3)  # the "<" arrives and is held back
    await ws.send_json_to({"type": "stop", "message_id": frame["message_id"]})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()
    message = await Message.objects.aget(pk=done["message_id"])

    assert (done["status"], message.status) == ("stopped", "stopped")
    assert message.content == done["content"] == "Check whether i <"


async def test_a_provider_refusing_stream_options_is_asked_again_and_usage_estimated(
    upstream, alice
):
    upstream.plan(tokens=5, reject_stream_options=True)
    upstream.plan(tokens=2)
    frames = await ask(alice, "first question")
    conversation_id = frames[0]["conversation"]["id"]
    second = await ask(alice, "second", conversation_id)
    _, usage = await stored(frames)
    _, later_usage = await stored(second)

    assert frames[-1]["status"] == "complete"
    assert [(u.status, u.estimated) for u in usage] == [("error", False), ("complete", True)]
    assert usage[1].completion_tokens > 0
    assert later_usage[0].estimated is True
    assert ["stream_options" in e["body"] for e in upstream.log()] == [True, False, False]


@pytest.mark.parametrize("reason", ["length", "content_filter"])
async def test_an_answer_cut_by_the_provider_is_marked_so(upstream, alice, reason):
    upstream.plan(tokens=3, finish_reason=reason)
    frames = await ask(alice)
    message, _ = await stored(frames)

    assert (frames[-1]["status"], frames[-1]["finish_reason"]) == ("complete", reason)
    assert message.finish_reason == reason


async def test_reasoning_is_stored_apart_from_the_answer(upstream, alice):
    upstream.plan(tokens=2, reasoning=3)
    frames = await ask(alice)
    message, (usage_row,) = await stored(frames)

    assert "".join(f.get("reasoning", "") for f in of_type(frames, "delta")) == "r0 r1 r2 "
    assert (message.reasoning, message.content) == ("r0 r1 r2 ", "t0 t1 ")
    assert usage_row.reasoning_tokens == 3


async def test_how_long_it_reasoned_is_stored_and_sent_with_the_reasoning(upstream, alice):
    upstream.plan(tokens=2, reasoning=4, delay=0.05)
    frames = await ask(alice)
    message, _ = await stored(frames)

    # Four reasoning pieces 50 ms apart, then the answer: about 200 ms of thought.
    assert message.reasoning_ms is not None
    assert 150 <= message.reasoning_ms < 5000
    done = frames[-1]
    assert (done["reasoning"], done["reasoning_ms"]) == ("r0 r1 r2 r3 ", message.reasoning_ms)


async def test_an_answer_without_reasoning_has_no_reasoning_time(upstream, alice):
    upstream.plan(tokens=2)
    frames = await ask(alice)
    message, _ = await stored(frames)
    assert (message.reasoning_ms, frames[-1]["reasoning_ms"], frames[-1]["reasoning"]) == (
        None,
        None,
        "",
    )


async def test_inline_think_tags_are_stored_as_reasoning(upstream, alice):
    upstream.plan(tokens=2, think=True)
    frames = await ask(alice)
    message, _ = await stored(frames)
    assert (message.reasoning, message.content) == ("pondering deeply", "t0 t1 ")


async def test_tool_calls_are_assembled_by_index_and_stored(upstream, alice):
    calls = [
        {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        {"name": "get_time", "arguments": '{"tz": "UTC"}'},
    ]
    upstream.plan(tokens=0, tool_calls=calls, finish_reason="tool_calls")
    frames = await ask(alice)
    message, _ = await stored(frames)

    assert message.finish_reason == "tool_calls"
    assert message.tool_calls == [
        {"id": "call_0", "type": "function", "function": calls[0]},
        {"id": "call_1", "type": "function", "function": calls[1]},
    ]
    assert message.status == "complete"
    assert frames[-1]["tool_calls"] == message.tool_calls, "the page shows them from the done frame"


async def test_cached_and_reasoning_tokens_are_recorded(upstream, alice):
    upstream.plan(tokens=3, reasoning=2, cached_tokens=4)
    frames = await ask(alice, "one two three four five")
    _, (usage_row,) = await stored(frames)
    assert (usage_row.prompt_tokens, usage_row.cached_tokens) == (8, 4)
    assert (usage_row.completion_tokens, usage_row.reasoning_tokens) == (5, 2)


async def test_keep_alives_and_crlf_line_ends_stream_normally(upstream, alice):
    upstream.plan(tokens=4, keepalive=True, crlf=True)
    frames = await ask(alice)
    assert (frames[-1]["status"], frames[-1]["content"]) == ("complete", "t0 t1 t2 t3 ")


async def test_stop_during_a_retry_wait_stops_at_once(upstream, alice):
    upstream.plan(status=503, retry_after="20")
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    retrying = (await receive_until(ws, "retrying"))[-1]
    await ws.send_json_to({"type": "stop", "message_id": retrying["message_id"]})
    done = (await receive_until(ws, "done", timeout=2))[-1]
    await ws.disconnect()
    await generations_settle()

    assert done["status"] == "stopped"
    assert len(upstream.log()) == 1


async def test_stop_during_a_retry_wait_bills_only_the_request_the_provider_received(
    upstream, alice
):
    upstream.plan(status=429, retry_after="5", error_message="Slow down")
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    retrying = (await receive_until(ws, "retrying"))[-1]
    await ws.send_json_to({"type": "stop", "message_id": retrying["message_id"]})
    done = (await receive_until(ws, "done", timeout=2))[-1]
    await ws.disconnect()
    await generations_settle()
    _, usage = await stored([done])

    assert len(upstream.log()) == 1
    assert [(u.status, u.prompt_tokens, u.completion_tokens, u.estimated) for u in usage] == [
        ("error", 0, 0, False)
    ]
    assert (done["usage"]["prompt_tokens"], done["usage"]["estimated"]) == (0, False)


async def test_the_ledger_matches_the_providers_reported_totals(upstream, alice):
    plans = [dict(tokens=5), dict(tokens=7, reasoning=2), dict(tokens=1, cached_tokens=3)]
    conversation_id = None
    for plan in plans:
        upstream.plan(**plan)
        frames = await ask(alice, "a b c", conversation_id)
        conversation_id = frames[0].get("conversation", {}).get("id", conversation_id)

    reported = [e["plan"] for e in upstream.log()]
    rows = [u async for u in Usage.objects.order_by("id")]
    assert [r.completion_tokens for r in rows] == [p["tokens"] + p["reasoning"] for p in reported]
    assert [r.cached_tokens for r in rows] == [0, 0, 3]
    assert not any(r.estimated for r in rows)


class DatabaseRefusals:
    """Makes the database itself refuse writes (triggers), until lifted."""

    def __init__(self) -> None:
        self.undo: list[str] = []

    async def add(self, *, on: str, table: str, when: str = "") -> None:
        start, end = _refusal_sql(on=on, table=table, when=when)
        await sync_to_async(_execute)(start)
        self.undo[:0] = end

    async def lift(self) -> None:
        await sync_to_async(self.lift_now)()

    def lift_now(self) -> None:
        undo, self.undo = self.undo, []
        _execute(undo)


def _execute(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _refusal_sql(*, on: str, table: str, when: str) -> tuple[list[str], list[str]]:
    name = f"refuse_{on.split()[0].lower()}_{table}"
    if connection.vendor == "sqlite":
        condition = f"WHEN {when}" if when else ""
        return [
            f"CREATE TRIGGER {name} BEFORE {on} ON {table} {condition} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ], [f"DROP TRIGGER {name}"]
    function = f"{name}_fn"
    condition = f"WHEN ({when.replace('<>', 'IS DISTINCT FROM')})" if when else ""
    return [
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
        f"CREATE TRIGGER {name} BEFORE {on} ON {table} FOR EACH ROW {condition} "
        f"EXECUTE FUNCTION {function}()",
    ], [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {function}()"]


@pytest.fixture
def database_refuses(monkeypatch) -> Iterator[DatabaseRefusals]:
    import chat.realtime.generation

    monkeypatch.setattr(chat.realtime.generation, "SAVE_ATTEMPTS", 2)  # one retry is enough here
    refusals = DatabaseRefusals()
    yield refusals
    refusals.lift_now()


async def test_a_final_save_that_fails_for_good_leaves_the_row_saying_what_the_page_says(
    upstream, alice, database_refuses
):
    await database_refuses.add(on="INSERT", table=Usage._meta.db_table)  # the ledger is broken
    upstream.plan(tokens=3)
    frames = await ask(alice)
    await generations_settle()
    message = await Message.objects.aget(pk=frames[-1]["message_id"])

    said = (frames[-1]["status"], frames[-1]["error"])
    assert said == ("error", "chatsite could not save this answer.")
    assert (message.status, message.error) == said


async def test_when_not_even_the_status_can_be_saved_the_page_says_what_the_sweep_will(
    upstream, alice, database_refuses
):
    await database_refuses.add(on="INSERT", table=Usage._meta.db_table)
    await database_refuses.add(
        on="UPDATE OF status", table=Message._meta.db_table, when="NEW.status <> OLD.status"
    )
    upstream.plan(tokens=3)
    frames = await ask(alice)
    await generations_settle()
    assert (await Message.objects.aget(pk=frames[-1]["message_id"])).status == "streaming"

    await database_refuses.lift()
    await sync_to_async(streams_interrupt_stale)(older_than=None)
    message = await Message.objects.aget(pk=frames[-1]["message_id"])
    assert message.status == frames[-1]["status"] == "interrupted"
