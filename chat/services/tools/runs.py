"""One tool call of an answer, from the model's call to its result: its state as the page
shows it and later requests replay it (`ToolRunState`, kept in `Message.tool_runs`), where
it runs (checked again against what the user may use now), and its record for admins."""

import json
from typing import Any

from chat import texts
from chat.models import McpTool, ToolRun
from chat.services.answers.outcome import ToolCall
from chat.services.tools.offered import (
    OfferedTool,
    function_name_safe,
    tool_called,
    tools_offered,
)
from chat.services.tools.servers import mcp_server_config
from chat.services.tools.states import ToolRunState
from chat.tools.config import ServerConfig

# The states a run passes through; the last five are final.
ASKED, RUNNING = "asked", "running"
DONE, FAILED, DECLINED, REFUSED, CANCELLED = (
    ToolRun.Outcome.DONE.value,
    ToolRun.Outcome.FAILED.value,
    ToolRun.Outcome.DECLINED.value,
    ToolRun.Outcome.REFUSED.value,
    ToolRun.Outcome.CANCELLED.value,
)
FINAL = frozenset({DONE, FAILED, DECLINED, REFUSED, CANCELLED})


def tool_run_new(
    *,
    round_number: int,
    index: int,
    call: ToolCall,
    offered: list[OfferedTool],
    content_at: int,
) -> tuple[ToolRunState, dict[str, Any] | None]:
    """A model's call as a run, and its arguments if it may run: a name that was not
    offered, or arguments that are not a JSON object, are refused here with what the
    model is told."""
    name, arguments = call["function"]["name"], call["function"]["arguments"]
    tool = tool_called(offered, name)
    state: ToolRunState = {
        "id": f"{round_number}-{index}",
        "round": round_number,
        "call_id": call["id"] or f"call_{round_number}_{index}",
        "name": name,
        "label": tool.label if tool else "",
        "tool_id": tool.tool_id if tool else None,
        "arguments": arguments,
        "approval": tool.approval if tool else "",
        "status": ASKED if tool and tool.approval == McpTool.Approval.ASK else RUNNING,
        "result": "",
        "truncated": False,
        "duration_ms": None,
        "content_at": content_at,
        "approved_by": None,
    }
    if tool is None:
        return tool_run_end(state, REFUSED, texts.TOOL_NOT_OFFERED.format(name=name[:80])), None
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError as exc:
        return tool_run_end(state, REFUSED, texts.TOOL_BAD_ARGUMENTS.format(reason=exc)), None
    if not isinstance(parsed, dict):
        reason = f"got {type(parsed).__name__}"
        return tool_run_end(state, REFUSED, texts.TOOL_BAD_ARGUMENTS.format(reason=reason)), None
    return state, parsed


def tool_run_end(
    state: ToolRunState, status: str, result: str, *, truncated: bool = False
) -> ToolRunState:
    return {**state, "status": status, "result": result, "truncated": truncated}


def tool_run_target(*, user_id: int, tool_id: int) -> tuple[ServerConfig, str] | None:
    """Where a call goes and the tool's own name, if the user may still use the tool
    (the admin may have withdrawn it since the answer began); else None."""
    tool = next((t for t in tools_offered(user_id) if t.pk == tool_id), None)
    if tool is None:
        return None
    return mcp_server_config(tool.server), tool.name


def tool_rounds_messages(content: str, runs: list[ToolRunState]) -> list[dict[str, Any]]:
    """The request messages that tell the model what its tool rounds did: for each round,
    the text it wrote before its calls with the calls, then each call's result. The text
    after the last round is not here: it is the answer itself."""
    messages: list[dict[str, Any]] = []
    start = 0
    for number in sorted({run["round"] for run in runs}):
        calls = [run for run in runs if run["round"] == number]
        end = calls[0]["content_at"]
        messages.append(
            {
                "role": "assistant",
                "content": content[start:end].strip() or None,
                "tool_calls": [
                    {"id": run["call_id"], "type": "function", "function": _as_called(run)}
                    for run in calls
                ],
            }
        )
        messages += [
            {"role": "tool", "tool_call_id": run["call_id"], "content": _told(run)} for run in calls
        ]
        start = end
    return messages


def _as_called(run: ToolRunState) -> dict[str, str]:
    """A call as the model made it; a refused one made valid (a name the API accepts,
    arguments that are an object), so that no provider refuses the whole conversation
    for it: why it was refused is in its result."""
    if run["status"] != REFUSED:
        return {"name": run["name"], "arguments": run["arguments"]}
    name = function_name_safe(run["name"])
    try:
        valid = isinstance(json.loads(run["arguments"] or "{}"), dict)
    except ValueError:
        valid = False
    return {"name": name, "arguments": run["arguments"] if valid else "{}"}


def tool_rounds_end(runs: list[ToolRunState]) -> int:
    """Where the answer's own text starts: after the last round's calls."""
    return max((run["content_at"] for run in runs), default=0)


def tool_run_over(run: ToolRunState) -> ToolRunState:
    """The run as it stands when its answer is over: one the answer ended in the middle
    of (Stop, the server stopped, its process died) was cancelled."""
    if run["status"] in FINAL:
        return run
    return tool_run_end(run, CANCELLED, texts.TOOL_CANCELLED)


def _told(run: ToolRunState) -> str:
    return tool_run_over(run)["result"]


def tool_runs_record(*, message_id: int, user_id: int, runs: list[ToolRunState]) -> None:
    """Each run's record for the admins, once per run: a second call (the final save after
    a sweep took the live process for a dead one) brings the record up to date."""
    # A tool an admin deleted since the call is named by the record's name alone.
    ids = {run["tool_id"] for run in runs if run["tool_id"] is not None}
    existing = (
        set(McpTool.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    )
    ToolRun.objects.bulk_create(
        [
            ToolRun(
                message_id=message_id,
                user_id=user_id,
                tool_id=run["tool_id"] if run["tool_id"] in existing else None,
                run_id=run["id"],
                name=run["name"][:200],
                arguments=run["arguments"],
                outcome=tool_run_over(run)["status"],
                result=run["result"],
                duration_ms=run["duration_ms"],
                approved_by_id=run["approved_by"],
            )
            for run in runs
        ],
        update_conflicts=True,
        unique_fields=["message", "run_id"],
        update_fields=["tool", "outcome", "result", "duration_ms", "approved_by"],
    )
