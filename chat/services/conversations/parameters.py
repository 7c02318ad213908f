"""Per-conversation settings: the system prompt and the request parameters the user set.

Only what is set is stored, and only what is stored is sent upstream: a provider's own
defaults apply to everything else. Ranges are those of the Chat Completions reference
(../shared/api/03-chat-completions-parameters-messages-tools.txt).
"""

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.models import Conversation, User
from chat.selectors import conversation_get
from chat.services.tools.offered import tools_offered
from chat.texts import number

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
MAX_STOP_SEQUENCES = 4
MAX_STOP_CHARS = 200
MAX_COMPLETION_TOKENS = 1_000_000
SEED_RANGE = (-(2**63), 2**63 - 1)

# name -> (label, low, high) for the numbers taken as they come.
_NUMBERS = {
    "temperature": (_("Temperature"), 0.0, 2.0),
    "top_p": (_("Top P"), 0.0, 1.0),
    "presence_penalty": (_("Presence penalty"), -2.0, 2.0),
    "frequency_penalty": (_("Frequency penalty"), -2.0, 2.0),
}
FIELDS = (
    "system_prompt",
    *_NUMBERS,
    "max_completion_tokens",
    "seed",
    "reasoning_effort",
    "stop",
    "json_mode",
    "tools",
)
# More ids than any admin lists tools for one person is not a choice, it is a probe.
MAX_TOOLS = 200


class SettingsInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ConversationSettings:
    system_prompt: str = ""
    parameters: dict[str, Any] | None = None  # only what is set
    # The MCP tools chosen for the conversation (checked against the user's by
    # settings_tools_check before they are kept).
    tools: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """What the settings panel shows."""
        return {
            "system_prompt": self.system_prompt,
            **(self.parameters or {}),
            "tools": list(self.tools),
        }


def settings_clean(data: Any) -> ConversationSettings:
    """Validate settings as the page sends them; blank or null means not set.

    Raises SettingsInvalid with one message per bad field, each fit to show a person.
    """
    if not isinstance(data, dict):
        raise SettingsInvalid({"settings": gettext("Settings must be a JSON object.")})
    errors: dict[str, str] = {}
    for name in data:
        if name not in FIELDS:
            errors[name] = gettext("Unknown setting %(name)s.") % {"name": repr(name)}
    system_prompt = data.get("system_prompt") or ""
    if not isinstance(system_prompt, str):
        errors["system_prompt"] = gettext("The system prompt must be text.")
        system_prompt = ""
    elif len(system_prompt) > settings.CHAT_MAX_MESSAGE_CHARS:
        errors["system_prompt"] = gettext(
            "The system prompt is %(length)s characters; the limit is %(limit)s."
        ) % {"length": number(len(system_prompt)), "limit": number(settings.CHAT_MAX_MESSAGE_CHARS)}
    parameters: dict[str, Any] = {}
    for name, (label, low, high) in _NUMBERS.items():
        if _blank(data.get(name)):
            continue
        value = _number(data[name])
        if value is None or not low <= value <= high:
            errors[name] = gettext("%(label)s must be a number from %(low)s to %(high)s.") % {
                "label": label,
                "low": number(low),
                "high": number(high),
            }
        else:
            parameters[name] = value
    for name, whole_label, low, high in (
        ("max_completion_tokens", gettext("Max completion tokens"), 1, MAX_COMPLETION_TOKENS),
        ("seed", gettext("Seed"), *SEED_RANGE),
    ):
        if _blank(data.get(name)):
            continue
        whole = _whole(data[name])
        if whole is None or not low <= whole <= high:
            errors[name] = gettext("%(label)s must be a whole number from %(low)s to %(high)s.") % {
                "label": whole_label,
                "low": number(low),
                "high": number(high),
            }
        else:
            parameters[name] = whole
    effort = data.get("reasoning_effort")
    if not _blank(effort):
        if effort in REASONING_EFFORTS:
            parameters["reasoning_effort"] = effort
        else:
            errors["reasoning_effort"] = gettext("Reasoning effort must be one of %(choices)s") % {
                "choices": ", ".join(REASONING_EFFORTS)
            }
    stop = _stop_sequences(data.get("stop"), errors)
    if stop:
        parameters["stop"] = stop
    json_mode = data.get("json_mode")
    if json_mode not in (None, False, True):
        errors["json_mode"] = gettext("JSON output must be on or off.")
    elif json_mode:
        parameters["json_mode"] = True
    tools = data.get("tools") or []
    if (
        not isinstance(tools, list)
        or len(tools) > MAX_TOOLS
        or not all(isinstance(t, int) and not isinstance(t, bool) and t > 0 for t in tools)
    ):
        errors["tools"] = gettext("Tools must be a list of tool ids.")
        tools = []
    if errors:
        raise SettingsInvalid(errors)
    return ConversationSettings(
        system_prompt=system_prompt, parameters=parameters, tools=tuple(dict.fromkeys(tools))
    )


def settings_tools_check(*, user: User, settings: ConversationSettings) -> None:
    """Every tool chosen must be one the user may use (none chosen: no query)."""
    if not settings.tools:
        return
    allowed = {tool.pk for tool in tools_offered(user)}
    if not set(settings.tools) <= allowed:
        raise SettingsInvalid({"tools": "A tool you chose is not available to you."})


def conversation_settings(conversation: Conversation) -> ConversationSettings:
    return ConversationSettings(
        system_prompt=conversation.system_prompt,
        parameters=dict(conversation.parameters),
        tools=tuple(conversation.tool_ids),
    )


def conversation_settings_save(
    *, user: User, conversation_id: int, data: Any
) -> ConversationSettings:
    """Validate and store; raises Conversation.DoesNotExist for another user's conversation."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    cleaned = settings_clean(data)
    settings_tools_check(user=user, settings=cleaned)
    conversation.system_prompt = cleaned.system_prompt
    conversation.parameters = cleaned.parameters or {}
    conversation.tool_ids = list(cleaned.tools)
    conversation.save(update_fields=["system_prompt", "parameters", "tool_ids", "updated_at"])
    return cleaned


def request_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """The stored parameters as the request body spells them."""
    body = {name: value for name, value in parameters.items() if name != "json_mode"}
    if parameters.get("json_mode"):
        body["response_format"] = {"type": "json_object"}
    return body


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: float | int = value
    elif isinstance(value, str):
        # A decimal comma, as German, French or Spanish keyboards type it ("0,7").
        if "," in value and "." not in value and value.count(",") == 1:
            value = value.replace(",", ".")
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _stop_sequences(value: Any, errors: dict[str, str]) -> list[str]:
    if _blank(value):
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        errors["stop"] = gettext("Stop sequences must be a list of texts.")
        return []
    items = [item for item in items if item]
    if len(items) > MAX_STOP_SEQUENCES:
        errors["stop"] = gettext("At most %(limit)s stop sequences, not %(count)s.") % {
            "limit": number(MAX_STOP_SEQUENCES),
            "count": number(len(items)),
        }
    elif any(len(item) > MAX_STOP_CHARS for item in items):
        errors["stop"] = gettext("A stop sequence may be at most %(limit)s characters.") % {
            "limit": number(MAX_STOP_CHARS)
        }
    return items
