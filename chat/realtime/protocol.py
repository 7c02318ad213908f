"""The websocket's JSON frames: parsing what the browser sends, building what it receives.

docs/websocket-protocol.md describes the same frames for people.
"""

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from chat.models import Message, Usage

if TYPE_CHECKING:
    from chat.services.answers.saving import GenerationResult
    from chat.services.usage.ledger import UsageCounts


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ModelChoice:
    provider: str  # "" for the site's default provider
    model: str


@dataclass(frozen=True)
class Send:
    conversation_id: int | None
    content: str
    # The model picked in the page; None keeps the conversation's.
    model: ModelChoice | None = None
    # A new conversation's settings, chosen before its first message; checked by the
    # settings service, not here.
    settings: dict[str, Any] | None = None
    # Images the user uploaded for this message (POST /attachments/), bound when it is saved.
    attachment_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Stop:
    message_id: int


@dataclass(frozen=True)
class Subscribe:
    conversation_id: int
    # Answers the page shows as still being written: each gets a snapshot, or its
    # final state if it ended while the page was not listening.
    streaming_ids: tuple[int, ...] = ()
    # The page reconnected: it gets the selected branch first, whatever it missed.
    branch: bool = False


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Regenerate:
    message_id: int  # the answer to write again


@dataclass(frozen=True)
class Edit:
    message_id: int  # the question to send again, changed
    content: str


@dataclass(frozen=True)
class SelectBranch:
    message_id: int  # any message of the branch to show


ClientFrame = Send | Stop | Subscribe | Ping | Regenerate | Edit | SelectBranch


def parse_client_frame(data: Any) -> ClientFrame:
    if not isinstance(data, dict):
        raise ProtocolError("invalid_frame", "A frame must be a JSON object.")
    kind = data.get("type")
    if kind == "send":
        conversation_id = _id(data, "conversation_id", optional=True)
        settings_data = data.get("settings")
        if settings_data is not None and not isinstance(settings_data, dict):
            raise ProtocolError("invalid_field", "'settings' must be an object.")
        return Send(
            conversation_id=conversation_id,
            content=_content(data),
            model=_model_choice(data),
            settings=settings_data,
            attachment_ids=_ids(data, "attachment_ids", limit=settings.CHAT_IMAGES_PER_MESSAGE),
        )
    if kind == "regenerate":
        return Regenerate(message_id=_required_id(data, "message_id"))
    if kind == "edit":
        return Edit(message_id=_required_id(data, "message_id"), content=_content(data))
    if kind == "select_branch":
        return SelectBranch(message_id=_required_id(data, "message_id"))
    if kind == "stop":
        return Stop(message_id=_required_id(data, "message_id"))
    if kind == "subscribe":
        branch = data.get("branch", False)
        if not isinstance(branch, bool):
            raise ProtocolError("invalid_field", "'branch' must be true or false.")
        return Subscribe(
            conversation_id=_required_id(data, "conversation_id"),
            streaming_ids=_ids(data, "streaming_ids"),
            branch=branch,
        )
    if kind == "ping":
        return Ping()
    if not isinstance(kind, str):
        raise ProtocolError("invalid_frame", "A frame needs a string 'type'.")
    raise ProtocolError("unknown_type", f"Unknown frame type {kind!r}.")


def _model_choice(data: dict[str, Any]) -> ModelChoice | None:
    if data.get("model") is None:
        return None
    model, provider = data.get("model"), data.get("provider", "")
    if not isinstance(model, str) or not model or len(model) > 200:
        raise ProtocolError("invalid_field", "'model' must be a model id.")
    if not isinstance(provider, str) or len(provider) > 50:
        raise ProtocolError("invalid_field", "'provider' must be a provider's short name.")
    return ModelChoice(provider=provider, model=model)


def _content(data: dict[str, Any]) -> str:
    content = data.get("content")
    if not isinstance(content, str):
        raise ProtocolError("invalid_field", "'content' must be a string.")
    if not content.strip():
        raise ProtocolError("invalid_field", "The message is empty.")
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(content) > limit:
        raise ProtocolError(
            "too_long", f"The message is {len(content)} characters; the limit is {limit}."
        )
    return content


def _required_id(data: dict[str, Any], name: str) -> int:
    value = _id(data, name, optional=False)
    assert value is not None
    return value


def _ids(data: dict[str, Any], name: str, limit: int = 50) -> tuple[int, ...]:
    values = data.get(name, [])
    if not isinstance(values, list) or len(values) > limit:
        raise ProtocolError("invalid_field", f"'{name}' must be a list of at most {limit} ids.")
    return tuple(_required_id({name: value}, name) for value in values)


def _id(data: dict[str, Any], name: str, *, optional: bool) -> int | None:
    value = data.get(name)
    if value is None and optional:
        return None
    # bool is an int in Python; true is no id.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ProtocolError("invalid_field", f"'{name}' must be a positive integer.")
    return value


# --- frames the server sends ----------------------------------------------------------

# A websocket message is at most 1 MiB for daphne (and for many clients): a frame whose
# JSON text is longer goes as `part` frames, each carrying a slice of that text. JSON
# escaping at most doubles a slice of JSON text, so every part stays far below the limit.
FRAME_PART_CHARS = 256 * 1024


def frame_texts(frame: dict[str, Any]) -> list[str]:
    """What goes on the wire for a frame: its JSON text, or its parts if it is long."""
    text = json.dumps(frame)
    if len(text) <= FRAME_PART_CHARS:
        return [text]
    starts = range(0, len(text), FRAME_PART_CHARS)
    return [
        json.dumps(
            {
                "type": "part",
                "data": text[start : start + FRAME_PART_CHARS],
                "last": start + FRAME_PART_CHARS >= len(text),
            }
        )
        for start in starts
    ]


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def message_frame(
    message: Message, attachments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`attachments`: summaries of the message's images (never their bytes)."""
    return {
        "type": "message",
        "message": {
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "parent_id": message.parent_id,
            "role": message.role,
            "content": message.content,
            "status": message.status,
            "attachments": attachments or [],
        },
    }


def branch_frame(
    *,
    conversation_id: int,
    branch: list[Message],
    siblings: dict[int, list[int]],
    attachments: dict[int, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The selected branch, whole: the page shows exactly these messages, in this order."""
    attachments = attachments or {}
    return {
        "type": "branch",
        "conversation_id": conversation_id,
        "messages": [
            {
                **message_frame(message, attachments.get(message.pk))["message"],
                "finish_reason": message.finish_reason,
                "error": message.error,
                # What the page shows besides the text: the Thinking panel, tool calls.
                "reasoning": message.reasoning,
                "reasoning_ms": message.reasoning_ms,
                "tool_calls": message.tool_calls,
                "sibling_ids": siblings.get(message.pk, [message.pk]),
            }
            for message in branch
        ],
    }


def conversation_frame(*, conversation_id: int, title: str, url: str) -> dict[str, Any]:
    return {
        "type": "conversation",
        "conversation": {"id": conversation_id, "title": title, "url": url},
    }


def title_frame(*, conversation_id: int, title: str) -> dict[str, Any]:
    return {"type": "title", "conversation": {"id": conversation_id, "title": title}}


def delta_frame(*, message_id: int, seq: int, content: str, reasoning: str) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "delta", "message_id": message_id, "seq": seq}
    if content:
        frame["content"] = content
    if reasoning:
        frame["reasoning"] = reasoning
    return frame


def snapshot_frame(*, message_id: int, seq: int, content: str, reasoning: str) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "message_id": message_id,
        "seq": seq,
        "content": content,
        "reasoning": reasoning,
    }


def retrying_frame(*, message_id: int, attempt: int, delay: float, reason: str) -> dict[str, Any]:
    return {
        "type": "retrying",
        "message_id": message_id,
        "attempt": attempt,
        "delay": round(delay, 1),
        "reason": reason,
    }


def done_frame(
    *,
    message_id: int,
    seq: int,
    status: str,
    content: str,
    finish_reason: str,
    error: str,
    prompt_tokens: int,
    completion_tokens: int,
    estimated: bool,
    reasoning: str = "",
    reasoning_ms: int | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "done",
        "message_id": message_id,
        "seq": seq,
        "status": status,
        "content": content,
        "reasoning": reasoning,
        "reasoning_ms": reasoning_ms,
        "tool_calls": tool_calls or [],
        "finish_reason": finish_reason,
        "error": error,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "estimated": estimated,
        },
    }


def done_frame_for(
    message_id: int, seq: int, result: "GenerationResult", usage: "UsageCounts"
) -> dict[str, Any]:
    """The done frame for what a generation saved."""
    return done_frame(
        message_id=message_id,
        seq=seq,
        status=result.status,
        content=result.content,
        reasoning=result.reasoning,
        reasoning_ms=result.reasoning_ms,
        tool_calls=result.tool_calls,
        finish_reason=result.finish_reason,
        error=result.error,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        estimated=usage.estimated,
    )


def done_frame_from_message(message: Message, usage: Usage | None) -> dict[str, Any]:
    """The done frame for an answer as the database holds it (no live sequence: 0)."""
    return done_frame(
        message_id=message.pk,
        seq=0,
        status=message.status,
        content=message.content,
        reasoning=message.reasoning,
        reasoning_ms=message.reasoning_ms,
        tool_calls=message.tool_calls,
        finish_reason=message.finish_reason,
        error=message.error,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        estimated=usage.estimated if usage else False,
    )
