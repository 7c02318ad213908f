"""Which tools a user may use, and how they are named to the model: the set is computed
here from what the admin enabled for the user and their groups, never from anything the
browser sends."""

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from chat.models import McpTool, User

# OpenAI's rule for a function's name; MCP names may be longer and hold dots.
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
NAME_MAX = 64


@dataclass(frozen=True)
class OfferedTool:
    tool_id: int
    function_name: str  # as the model sees and calls it: <server>__<tool>, made safe
    approval: str
    label: str = ""  # for people: "Server: tool"

    def matches(self, name: str) -> bool:
        return name == self.function_name


def function_name_safe(text: str) -> str:
    """A name the Chat Completions API accepts for a function."""
    return _NAME_UNSAFE.sub("_", text)[:NAME_MAX] or "unnamed_tool"


def _function_name(tool: McpTool, taken: set[str]) -> str:
    name = _NAME_UNSAFE.sub("_", f"{tool.server.slug}__{tool.name}")
    if len(name) > NAME_MAX or name in taken:
        # Cut, or made apart from a name it would share ("a.b" and "a_b" both read
        # "a_b"), with the tool's id: a call must find exactly the tool it names.
        suffix = f"_{tool.pk}"
        name = name[: NAME_MAX - len(suffix)] + suffix
    return name


def tools_offered(user: User | int) -> list[McpTool]:
    """The enabled tools of enabled servers the user (or the user of this id) may use:
    chosen for them, or for a group of theirs."""
    user_id = user if isinstance(user, int) else user.pk
    return list(
        McpTool.objects.filter(enabled=True, listed=True, server__enabled=True)
        .filter(Q(users__id=user_id) | Q(groups__user__id=user_id))
        .select_related("server")
        .distinct()
        .order_by("server__slug", "name")
    )


def tools_for_request(tools: list[McpTool]) -> tuple[list[dict[str, Any]], list[OfferedTool]]:
    """The `tools` parameter of a chat request, and how to find each called name again."""
    offered, parameter = [], []
    taken: set[str] = set()
    for tool in tools:
        name = _function_name(tool, taken)
        taken.add(name)
        offered.append(
            OfferedTool(
                tool_id=tool.pk,
                function_name=name,
                approval=tool.approval,
                label=f"{tool.server.name}: {tool.name}",
            )
        )
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
        parameter.append(
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": tool.description[:1024],
                    "parameters": schema or {"type": "object", "properties": {}},
                },
            }
        )
    return parameter, offered


def tools_choosable(user: User) -> list[dict[str, Any]]:
    """The tools the settings dialog offers the user, as the page shows them."""
    return [
        {
            "id": tool.pk,
            "label": f"{tool.server.name}: {tool.name}",
            "description": tool.description[:300],
            "approval": tool.approval,
        }
        for tool in tools_offered(user)
    ]


def tools_chosen(*, user_id: int, tool_ids: list[int]) -> list[McpTool]:
    """The tools a conversation may use: those the user chose for it that they may still
    use. No query when none were chosen."""
    if not tool_ids:
        return []
    return [tool for tool in tools_offered(user_id) if tool.pk in tool_ids]


def tool_called(offered: list[OfferedTool], name: str) -> OfferedTool | None:
    """The offered tool a model's call names; None for a name that was not offered (the
    call is refused and the model told so)."""
    return next((tool for tool in offered if tool.matches(name)), None)
