"""The tool round of an answer, end to end: the fake upstream scripts the model's calls,
real MCP servers (the SDK's over Streamable HTTP, the reference time server over stdio)
run them, and the socket shows each call, its approval and its result."""

import asyncio
import json
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async

from chat import texts
from chat.models import McpServer, McpTool, Message, ToolRun, Usage
from chat.realtime.groups import generation_decide, generation_stop
from chat.services.tools.servers import mcp_server_secret_set, mcp_server_tools_refresh
from tests.conftest import MCP_SECRET
from tests.servers import ROOT, free_port, stop, wait_for_port
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def _tools_for(user, server: McpServer, approval: dict[str, str]) -> dict[str, int]:
    mcp_server_tools_refresh(server)
    ids = {}
    for name, how in approval.items():
        tool = McpTool.objects.get(server=server, name=name)
        tool.enabled, tool.approval = True, how
        tool.save()
        tool.users.add(user)
        ids[name] = tool.pk
    return ids


def _tools_at(url: str, user, approval: dict[str, str]) -> dict[str, int]:
    """The test MCP server at `url`, with its secret header, and these of its tools for
    the user."""
    server = McpServer(slug="tests", name="Tests", url=url, allow_private=True)
    server.secret_header = "X-MCP-Secret"
    mcp_server_secret_set(server, MCP_SECRET)
    server.save()
    return _tools_for(user, server, approval)


@pytest.fixture
def http_tools(http_server, alice):
    """alice may use the HTTP server's add (automatic) and slow and big (approval)."""
    return sync_to_async(_tools_at)(
        http_server, alice, {"add": "auto", "slow": "ask", "big": "auto"}
    )


async def _send(ws, content: str, tools: list[int]) -> None:
    await ws.send_json_to({"type": "send", "content": content, "settings": {"tools": tools}})


def _call(name: str, arguments: object) -> dict[str, str]:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"name": name, "arguments": text}


async def _decide(ws, message_id: int, run_id: str = "1-0", approved: bool = True) -> None:
    await ws.send_json_to(
        {"type": "approve", "message_id": message_id, "run_id": run_id, "approved": approved}
    )


async def _subscribe(ws, conversation_id: int, message_id: int) -> None:
    await ws.send_json_to(
        {"type": "subscribe", "conversation_id": conversation_id, "streaming_ids": [message_id]}
    )


def _tool_frames(frames: list[dict]) -> list[dict]:
    return [f["run"] for f in frames if f["type"] == "tool"]


async def test_an_automatic_tool_runs_and_the_model_answers_with_its_result(
    upstream, alice, http_tools
):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__add", {"a": 2, "b": 3})], finish_reason="tool_calls")
    upstream.plan(text="The sum is 5.")
    ws = await connect(alice)
    await _send(ws, "what is 2 + 3?", [ids["add"]])
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    runs = _tool_frames(frames)
    assert [r["status"] for r in runs] == ["running", "done"]
    assert runs[-1]["result"] == "5"
    assert runs[-1]["label"] == "Tests: add"
    done = frames[-1]
    assert done["status"] == "complete"
    assert done["content"] == "The sum is 5."
    assert [r["status"] for r in done["tool_runs"]] == ["done"]
    first, second = (entry["body"] for entry in upstream.log())
    assert [t["function"]["name"] for t in first["tools"]] == ["tests__add"]
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "tests__add"
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_0", "content": "5"}
    answer = await Message.objects.aget(pk=done["message_id"])
    assert answer.tool_runs == done["tool_runs"]
    assert await Usage.objects.filter(message=answer).acount() == 2, "a usage row per round"
    record = await ToolRun.objects.select_related("tool").aget(message=answer)
    assert (record.tool.name, record.outcome, record.result) == ("add", "done", "5")
    assert record.duration_ms is not None
    assert record.approved_by_id is None
    assert MCP_SECRET not in json.dumps(frames)


async def test_parallel_calls_and_several_rounds_all_reach_the_model(upstream, alice, http_tools):
    ids = await http_tools
    upstream.plan(
        tool_calls=[_call("tests__add", {"a": 1, "b": 1}), _call("tests__add", {"a": 2, "b": 2})],
        finish_reason="tool_calls",
    )
    upstream.plan(
        text="Now the total.",
        tool_calls=[_call("tests__add", {"a": 2, "b": 4})],
        finish_reason="tool_calls",
    )
    upstream.plan(text="It is 6.")
    ws = await connect(alice)
    await _send(ws, "add things", [ids["add"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "complete"
    assert [(r["id"], r["result"]) for r in done["tool_runs"]] == [
        ("1-0", "2"),
        ("1-1", "4"),
        ("2-0", "6"),
    ]
    assert done["content"] == "Now the total.\n\nIt is 6.", "each round's text a paragraph"
    assert done["tool_runs"][2]["content_at"] == len("Now the total.")
    last = upstream.log()[-1]["body"]["messages"]
    assert [m["role"] for m in last[-5:]] == ["assistant", "tool", "tool", "assistant", "tool"]
    assert last[-2]["content"] == "Now the total."
    assert await Usage.objects.filter(message_id=done["message_id"]).acount() == 3


async def test_a_name_not_offered_and_arguments_not_json_are_refused_and_told_to_the_model(
    upstream, alice, http_tools
):
    ids = await http_tools
    upstream.plan(
        tool_calls=[_call("tests__slow", {"seconds": 1}), _call("tests__add", '{"a": 1,')],
        finish_reason="tool_calls",
    )
    upstream.plan(text="Sorry.")
    ws = await connect(alice)
    # slow is alice's but not chosen for this conversation: it is not offered.
    await _send(ws, "go", [ids["add"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert [r["status"] for r in done["tool_runs"]] == ["refused", "refused"]
    told = [m for m in upstream.log()[-1]["body"]["messages"] if m["role"] == "tool"]
    assert told[0]["content"] == texts.TOOL_NOT_OFFERED.format(name="tests__slow")
    assert told[1]["content"].startswith("The arguments were not a JSON object")
    assert done["content"] == "Sorry."


async def test_a_call_that_needs_approval_waits_and_runs_once_approved(upstream, alice, http_tools):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 0.1})], finish_reason="tool_calls")
    upstream.plan(text="Done waiting.")
    ws = await connect(alice)
    await _send(ws, "wait a bit", [ids["slow"]])
    frame = (await receive_until(ws, "tool"))[-1]
    asked = frame["run"]
    assert asked["status"] == "asked"
    assert json.loads(asked["arguments"]) == {"seconds": 0.1}
    assert len(upstream.log()) == 1, "nothing runs before the user decides"
    await asyncio.sleep(0.6)  # the user reads the arguments
    await ws.send_json_to(
        {
            "type": "approve",
            "message_id": frame["message_id"],
            "run_id": asked["id"],
            "approved": True,
        }
    )
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["tool_runs"][0]["status"] == "done"
    assert done["tool_runs"][0]["result"] == "waited 0.1 s"
    record = await ToolRun.objects.aget(message_id=done["message_id"])
    assert record.approved_by_id == alice.pk
    # Each request's row has its own timings; the answer's include the wait.
    answer = await Message.objects.aget(pk=done["message_id"])
    assert answer.duration_ms >= 600
    latencies = [u.latency_ms async for u in Usage.objects.filter(message=answer)]
    assert len(latencies) == 2
    assert max(latencies) < 600


async def test_a_declined_call_does_not_run_and_the_model_is_told(upstream, alice, http_tools):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 30})], finish_reason="tool_calls")
    upstream.plan(text="Understood.")
    ws = await connect(alice)
    await _send(ws, "wait long", [ids["slow"]])
    frames = await receive_until(ws, "tool")
    message_id = frames[-1]["message_id"]
    await _decide(ws, message_id, approved=False)
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["tool_runs"][0]["status"] == "declined"
    assert done["tool_runs"][0]["duration_ms"] is None, "it never ran"
    told = upstream.log()[-1]["body"]["messages"][-1]
    assert told["content"] == texts.TOOL_DECLINED
    assert done["content"] == "Understood."


async def test_stop_while_a_call_waits_for_approval_ends_the_answer_and_sends_nothing_more(
    upstream, alice, http_tools
):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 1})], finish_reason="tool_calls")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    message_id = (await receive_until(ws, "tool"))[-1]["message_id"]
    await ws.send_json_to({"type": "stop", "message_id": message_id})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    assert done["tool_runs"][0]["status"] == "cancelled"
    assert len(upstream.log()) == 1
    rows = [u async for u in Usage.objects.filter(message_id=message_id)]
    assert len(rows) == 1, "the first round's request only: the next was never sent"
    assert (await ToolRun.objects.aget(message_id=message_id)).outcome == "cancelled"


async def test_stop_while_a_tool_runs_cancels_the_call(upstream, alice, http_tools):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 30})], finish_reason="tool_calls")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    message_id = (await receive_until(ws, "tool"))[-1]["message_id"]
    await _decide(ws, message_id)
    running = (await receive_until(ws, "tool"))[-1]["run"]
    assert running["status"] == "running"
    await ws.send_json_to({"type": "stop", "message_id": message_id})
    done = (await receive_until(ws, "done", timeout=5))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    run = done["tool_runs"][0]
    assert run["status"] == "cancelled"
    assert run["duration_ms"] < 5000


async def test_a_model_that_keeps_calling_tools_is_stopped_at_the_round_limit(
    upstream, alice, http_tools, settings
):
    settings.CHAT_TOOL_ROUNDS = 2
    ids = await http_tools
    for _ in range(3):
        upstream.plan(
            tool_calls=[_call("tests__add", {"a": 1, "b": 1})], finish_reason="tool_calls"
        )
    ws = await connect(alice)
    await _send(ws, "loop", [ids["add"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "incomplete"
    assert done["error"] == texts.TOOL_ROUNDS_EXHAUSTED.format(rounds=2)
    assert [r["status"] for r in done["tool_runs"]] == ["done", "done", "refused"]
    assert len(upstream.log()) == 3
    assert await Usage.objects.filter(message_id=done["message_id"]).acount() == 3


async def test_a_page_that_comes_back_during_an_approval_sees_it_and_can_approve(
    upstream, alice, http_tools
):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 0})], finish_reason="tool_calls")
    upstream.plan(text="ok")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    frames = await receive_until(ws, "tool")
    conversation_id = next(f for f in frames if f["type"] == "conversation")["conversation"]["id"]
    message_id = frames[-1]["message_id"]
    await ws.disconnect()  # the tab is closed; the answer waits on

    again = await connect(alice)
    await _subscribe(again, conversation_id, message_id)
    snapshot = (await receive_until(again, "snapshot"))[-1]
    assert [r["status"] for r in snapshot["tools"]] == ["asked"]
    await _decide(again, message_id)
    done = (await receive_until(again, "done"))[-1]
    await again.disconnect()
    assert done["status"] == "complete"
    assert done["tool_runs"][0]["status"] == "done"


async def test_another_user_s_answer_cannot_be_approved(upstream, alice, bob, http_tools):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 0})], finish_reason="tool_calls")
    upstream.plan(text="ok")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    message_id = (await receive_until(ws, "tool"))[-1]["message_id"]
    intruder = await connect(bob)
    await _decide(intruder, message_id)
    refused = await intruder.receive_json_from()
    missing = 10**9
    await _decide(intruder, missing)
    refused_missing = await intruder.receive_json_from()
    await intruder.disconnect()
    await ws.send_json_to({"type": "stop", "message_id": message_id})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert (
        refused
        == refused_missing
        == {
            "type": "error",
            "code": "not_found",
            "message": texts.MESSAGE_NOT_FOUND,
        }
    )
    assert done["tool_runs"][0]["status"] == "cancelled", "bob's approval did nothing"


async def test_a_tool_the_user_may_not_use_cannot_be_chosen(upstream, alice, bob, http_tools):
    ids = await http_tools  # alice's tools, not bob's
    ws = await connect(bob)
    await _send(ws, "hi", [ids["add"]])
    error = await ws.receive_json_from()
    await ws.disconnect()

    assert error["type"] == "error"
    assert "not available" in error["message"]
    assert upstream.log() == []
    assert await Message.objects.acount() == 0


async def test_a_long_result_is_cut_to_the_limit(upstream, alice, http_tools, settings):
    settings.MCP_RESULT_MAX_CHARS = 100
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__big", {"size": 5000})], finish_reason="tool_calls")
    upstream.plan(text="ok")
    ws = await connect(alice)
    await _send(ws, "big", [ids["big"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    big = done["tool_runs"][0]
    assert (big["result"], big["truncated"]) == ("x" * 100, True)
    told = upstream.log()[-1]["body"]["messages"][-1]
    assert told["content"] == "x" * 100


async def test_a_tool_past_its_time_fails_and_the_model_is_told(
    upstream, alice, http_tools, settings
):
    settings.MCP_TOOL_TIMEOUT = 0.5
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 5})], finish_reason="tool_calls")
    upstream.plan(text="ok")
    ws = await connect(alice)
    await _send(ws, "slow", [ids["slow"]])
    message_id = (await receive_until(ws, "tool"))[-1]["message_id"]
    await _decide(ws, message_id)
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    run = done["tool_runs"][0]
    assert (run["status"], run["result"]) == ("failed", texts.TOOL_UNAVAILABLE)
    assert run["duration_ms"] < 3000
    assert upstream.log()[-1]["body"]["messages"][-1]["content"] == texts.TOOL_UNAVAILABLE


async def test_a_local_stdio_server_s_tool_answers(upstream, alice, time_server):
    def made():
        server = McpServer.objects.create(slug="time", name="Time", stdio="time")
        return _tools_for(alice, server, {"get_current_time": "auto"})

    ids = await sync_to_async(made)()
    upstream.plan(
        tool_calls=[_call("time__get_current_time", {"timezone": "Europe/Paris"})],
        finish_reason="tool_calls",
    )
    upstream.plan(text="It is late.")
    ws = await connect(alice)
    await _send(ws, "what time is it in Paris?", [ids["get_current_time"]])
    done = (await receive_until(ws, "done", timeout=30))[-1]
    await ws.disconnect()

    run = done["tool_runs"][0]
    assert run["status"] == "done"
    assert json.loads(run["result"])["timezone"] == "Europe/Paris"


async def test_a_follow_up_replays_the_earlier_tool_rounds(upstream, alice, http_tools):
    ids = await http_tools
    upstream.plan(
        text="Let me add.",
        tool_calls=[_call("tests__add", {"a": 2, "b": 3})],
        finish_reason="tool_calls",
    )
    upstream.plan(text="It is 5.")
    upstream.plan(text="You are welcome.")
    ws = await connect(alice)
    await _send(ws, "2 + 3?", [ids["add"]])
    first = (await receive_until(ws, "done"))[-1]
    conversation_id = (await Message.objects.aget(pk=first["message_id"])).conversation_id
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "thanks"})
    await receive_until(ws, "done")
    await ws.disconnect()

    messages = upstream.log()[-1]["body"]["messages"]
    assert [(m["role"], m.get("content")) for m in messages] == [
        ("user", "2 + 3?"),
        ("assistant", "Let me add."),
        ("tool", "5"),
        ("assistant", "It is 5."),
        ("user", "thanks"),
    ]


def _cancellations(http_server: str) -> int:
    from chat.tools.client import mcp_tool_call
    from chat.tools.config import ServerConfig

    config = ServerConfig(
        name="Tests", url=http_server, headers={"X-MCP-Secret": MCP_SECRET}, allow_private=True
    )
    return int(mcp_tool_call_sync(mcp_tool_call, config))


def mcp_tool_call_sync(call, config) -> str:
    from asgiref.sync import async_to_sync

    return async_to_sync(call)(config, "cancellations", {}, seconds=5, limit=100).text


async def test_stop_while_a_tool_runs_tells_its_server_which_stops_it(
    upstream, alice, http_tools, http_server
):
    ids = await http_tools
    before = await sync_to_async(_cancellations)(http_server)
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 30})], finish_reason="tool_calls")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    message_id = (await receive_until(ws, "tool"))[-1]["message_id"]
    await _decide(ws, message_id)
    await receive_until(ws, "tool")  # running
    await asyncio.sleep(0.3)  # the call has reached the server
    await ws.send_json_to({"type": "stop", "message_id": message_id})
    await receive_until(ws, "done")
    await ws.disconnect()

    for _ in range(50):
        if await sync_to_async(_cancellations)(http_server) > before:
            break
        await asyncio.sleep(0.1)
    assert await sync_to_async(_cancellations)(http_server) == before + 1


async def test_stop_together_with_the_approval_still_stops_before_the_tool_runs(
    upstream, alice, http_tools
):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 10})], finish_reason="tool_calls")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    message_id = (await receive_until(ws, "tool"))[-1]["message_id"]
    # Both reach the generation in one turn of its loop: two pages, each socket having
    # checked its frame, send their events at once.
    await generation_decide(message_id=message_id, run_id="1-0", approved=True, user_id=alice.pk)
    await generation_stop(message_id=message_id)
    done = (await receive_until(ws, "done", timeout=5))[-1]
    await ws.disconnect()

    assert done["status"] == "stopped"
    assert done["tool_runs"][0]["status"] == "cancelled"
    assert (done["tool_runs"][0]["duration_ms"] or 0) < 2000


async def test_without_the_provider_s_usage_each_round_is_estimated_from_what_it_wrote(
    upstream, alice, http_tools
):
    ids = await http_tools
    preamble = "word " * 300
    upstream.plan(
        text=preamble,
        tool_calls=[_call("tests__add", {"a": 1, "b": 2})],
        finish_reason="tool_calls",
        usage=False,
    )
    upstream.plan(text="Three.", usage=False)
    ws = await connect(alice)
    await _send(ws, "add", [ids["add"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    rows = [u async for u in Usage.objects.filter(message_id=done["message_id"])]
    first, final = sorted(rows, key=lambda u: u.completion_tokens, reverse=True)
    assert all(u.estimated for u in rows)
    assert first.completion_tokens >= 300, "the round's own text counts in its row"
    assert final.completion_tokens < 20, "the final row counts only what came after"
    assert final.prompt_tokens > first.prompt_tokens + 250, "the round's text is read again"


async def test_frames_keep_the_order_things_happened_in_one_sequence(upstream, alice, http_tools):
    ids = await http_tools
    upstream.plan(
        text="Adding.",
        tool_calls=[_call("tests__add", {"a": 1, "b": 1})],
        finish_reason="tool_calls",
    )
    upstream.plan(text="Two.")
    ws = await connect(alice)
    await _send(ws, "add", [ids["add"]])
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    live = [f for f in frames if f["type"] in ("delta", "tool", "done")]
    assert [f["seq"] for f in live] == list(range(1, len(live) + 1))
    kinds = [(f["type"], f.get("run", {}).get("status") or f.get("content", "")) for f in live]
    result_at = kinds.index(("tool", "done"))
    later_text = [i for i, (kind, text) in enumerate(kinds) if kind == "delta" and "Two" in text]
    assert later_text, "the next round's text was sent"
    assert later_text[0] > result_at, "the next round's text after the result"


async def test_a_page_that_comes_back_while_a_tool_runs_sees_it_running(
    upstream, alice, http_tools
):
    ids = await http_tools
    upstream.plan(tool_calls=[_call("tests__slow", {"seconds": 1.5})], finish_reason="tool_calls")
    upstream.plan(text="Done.")
    ws = await connect(alice)
    await _send(ws, "wait", [ids["slow"]])
    frames = await receive_until(ws, "tool")
    conversation_id = next(f for f in frames if f["type"] == "conversation")["conversation"]["id"]
    message_id = frames[-1]["message_id"]
    await _decide(ws, message_id)
    await receive_until(ws, "tool")
    await ws.disconnect()

    again = await connect(alice)
    await _subscribe(again, conversation_id, message_id)
    snapshot = (await receive_until(again, "snapshot"))[-1]
    done = (await receive_until(again, "done"))[-1]
    await again.disconnect()

    assert [r["status"] for r in snapshot["tools"]] == ["running"]
    assert done["tool_runs"][0]["status"] == "done"
    assert done["content"] == "Done."


async def test_calls_past_the_limit_of_a_round_are_refused_and_the_rest_run(
    upstream, alice, http_tools, settings
):
    settings.CHAT_TOOL_CALLS_PER_ROUND = 2
    ids = await http_tools
    calls = [_call("tests__add", {"a": n, "b": 0}) for n in range(3)]
    upstream.plan(tool_calls=calls, finish_reason="tool_calls")
    upstream.plan(text="ok")
    ws = await connect(alice)
    await _send(ws, "add three", [ids["add"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert [r["status"] for r in done["tool_runs"]] == ["done", "done", "refused"]
    assert done["tool_runs"][2]["result"] == texts.TOOL_TOO_MANY.format(limit=2)


async def test_no_secret_of_a_server_reaches_the_log(upstream, alice, http_server, caplog):
    # Some servers take a token in the URL: it is as secret as the header.
    url = f"{http_server}?token=token-in-the-url"
    ids = await sync_to_async(_tools_at)(url, alice, {"add": "auto"})
    caplog.set_level("DEBUG")
    upstream.plan(tool_calls=[_call("tests__add", {"a": 1, "b": 1})], finish_reason="tool_calls")
    upstream.plan(text="2")
    ws = await connect(alice)
    await _send(ws, "add", [ids["add"]])
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["tool_runs"][0]["result"] == "2"
    assert "token-in-the-url" not in caplog.text
    assert MCP_SECRET not in caplog.text


async def test_a_tool_server_that_stops_fails_its_calls_and_serves_again_when_back(upstream, alice):
    # A server of this test's own, stopped and started again on the same address.
    port = free_port()
    command = [sys.executable, str(ROOT / "tests" / "mcp" / "http_server.py"), str(port)]

    def started() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([*command, MCP_SECRET], cwd=ROOT)
        wait_for_port(port, process)
        return process

    async def asked(ws, conversation_id: int | None) -> dict:
        upstream.plan(
            tool_calls=[_call("tests__add", {"a": 2, "b": 2})], finish_reason="tool_calls"
        )
        upstream.plan(text="Answered.")
        await ws.send_json_to(
            {
                "type": "send",
                "content": "2 + 2?",
                "conversation_id": conversation_id,
                "settings": None if conversation_id else {"tools": [ids["add"]]},
            }
        )
        return (await receive_until(ws, "done"))[-1]

    process = await sync_to_async(started)()
    ids = await sync_to_async(_tools_at)(f"http://127.0.0.1:{port}/mcp", alice, {"add": "auto"})
    ws = await connect(alice)
    try:
        first = await asked(ws, None)
        conversation_id = (await Message.objects.aget(pk=first["message_id"])).conversation_id
        stop(process)
        while_down = await asked(ws, conversation_id)
        process = await sync_to_async(started)()
        back = await asked(ws, conversation_id)
    finally:
        await ws.disconnect()
        stop(process)

    assert [r["result"] for r in first["tool_runs"]] == ["4"]
    # Down: the call fails, the model is told, and the answer is saved whole.
    assert while_down["status"] == "complete"
    assert while_down["content"] == "Answered."
    assert [(r["status"], r["result"]) for r in while_down["tool_runs"]] == [
        ("failed", texts.TOOL_UNAVAILABLE)
    ]
    told = upstream.log()[3]["body"]["messages"][-1]
    assert told["content"] == texts.TOOL_UNAVAILABLE
    assert [r["result"] for r in back["tool_runs"]] == ["4"]
    outcomes = [r.outcome async for r in ToolRun.objects.order_by("created_at", "id")]
    assert outcomes == ["done", "failed", "done"]
    assert await Usage.objects.filter(conversation_id=conversation_id).acount() == 6
