"""How one tool run ends when its call does not return a result: the MCP SDK's task
groups may turn a Stop into a group holding the cancellation, or into the failure of a
stream closed under it. A stop stays a stop; a failure without a Stop is the tool's.

Unit tests: the call is replaced by one that fails exactly so (a race the real server
shows only under load)."""

import asyncio

import anyio
import pytest

from chat import texts
from chat.realtime import generation as generation_module
from chat.realtime.generation import Generation
from chat.services.answers.requests import ChatRequest
from chat.services.tools import runs as tool_runs
from chat.tools.config import ServerConfig


def _running() -> tool_runs.ToolRunState:
    return {
        "id": "1-0",
        "round": 1,
        "call_id": "call_0",
        "name": "tests__slow",
        "label": "Tests: slow",
        "tool_id": 1,
        "arguments": "{}",
        "approval": "auto",
        "status": tool_runs.RUNNING,
        "result": "",
        "truncated": False,
        "duration_ms": None,
        "content_at": 0,
        "approved_by": None,
    }


@pytest.fixture
def failing_call(monkeypatch):
    """The call fails with the SDK's teardown error, inside its task group."""

    async def call(*args, **kwargs):
        raise ExceptionGroup("unhandled errors in a TaskGroup", [anyio.ClosedResourceError()])

    async def client_call():
        return call

    monkeypatch.setattr(generation_module, "_client_call", client_call)
    monkeypatch.setattr(
        tool_runs, "tool_run_target", lambda **kwargs: (ServerConfig(name="t"), "slow")
    )


def _generation() -> Generation:
    generation = Generation(message_id=1, conversation_id=1)
    generation.request = ChatRequest(user_id=1, conversation_id=1, model="m", messages=[])
    return generation


async def test_a_call_that_fails_so_after_stop_is_cancelled_and_stops_the_answer(failing_call):
    generation = _generation()
    generation.stop_requested = True

    with pytest.raises(asyncio.CancelledError):
        await generation._tool_run(_running(), {})

    run = generation.tool_runs["1-0"]
    assert (run["status"], run["result"]) == ("cancelled", texts.TOOL_CANCELLED)


async def test_the_same_failure_without_stop_is_the_tool_s_and_the_answer_goes_on(failing_call):
    generation = _generation()

    await generation._tool_run(_running(), {})

    run = generation.tool_runs["1-0"]
    assert (run["status"], run["result"]) == ("failed", texts.TOOL_UNAVAILABLE)
