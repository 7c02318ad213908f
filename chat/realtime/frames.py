"""The frames the server sends over the websocket, typed, and how they go on the wire.

docs/websocket-protocol.md describes the same frames for people. An answer's final state
appears in the `done` frame and in every message of a `branch` frame with the same fields
(`OutcomeFields`), built from one `AnswerOutcome`: the description the final save uses.
"""

from typing import Any, Literal, TypedDict

import orjson

from chat import texts
from chat.models import Message, Usage
from chat.services.answers.outcome import AnswerOutcome, ToolCall
from chat.services.tools.states import ToolRunState
from chat.services.usage.ledger import UsageCounts

# A websocket message is at most 1 MiB for daphne (and for many clients): a frame whose
# JSON text is longer goes as `part` frames, each carrying a slice of that text. The text
# is UTF-8 on the wire (orjson does not escape what is not ASCII), so a character of the
# slice takes at most 4 bytes once the part is written (a quote or backslash 2): every
# part stays at most 512 KiB.
FRAME_PART_CHARS = 128 * 1024


class UsageFields(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    estimated: bool


class OutcomeFields(TypedDict):
    status: str
    content: str
    reasoning: str
    reasoning_ms: int | None
    tool_calls: list[ToolCall]
    tool_runs: list[ToolRunState]
    finish_reason: str
    error: str


class _MessageIdentity(TypedDict):
    id: int
    conversation_id: int
    parent_id: int | None
    role: str
    # Summaries of the message's images for thumbnails (never their bytes).
    attachments: list[dict[str, Any]]
    # Summaries of the documents it brought, for their chips (never their text or bytes).
    documents: list[dict[str, Any]]


class MessageFields(_MessageIdentity):
    content: str
    status: str


class BranchMessage(_MessageIdentity, OutcomeFields):
    sibling_ids: list[int]  # the versions of this message, itself included


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: str
    message: str


class MessageFrame(TypedDict):
    type: Literal["message"]
    message: MessageFields


class BranchFrame(TypedDict):
    type: Literal["branch"]
    conversation_id: int
    messages: list[BranchMessage]


class ConversationFields(TypedDict):
    id: int
    title: str
    url: str


class ConversationFrame(TypedDict):
    type: Literal["conversation"]
    conversation: ConversationFields


class TitleFields(TypedDict):
    id: int
    title: str


class TitleFrame(TypedDict):
    type: Literal["title"]
    conversation: TitleFields


class DeltaFrame(TypedDict, total=False):
    type: Literal["delta"]
    message_id: int
    seq: int
    content: str  # only when there is some
    reasoning: str  # only when there is some


class SnapshotFrame(TypedDict):
    type: Literal["snapshot"]
    message_id: int
    seq: int
    content: str
    reasoning: str
    tools: list[ToolRunState]  # each tool run as the frames up to seq left it


class ToolFrame(TypedDict):
    """A tool run of a streaming answer changed: called, asked, running, ended."""

    type: Literal["tool"]
    message_id: int
    seq: int  # in the answer's sequence with its deltas
    run: ToolRunState


class RetryingFrame(TypedDict):
    type: Literal["retrying"]
    message_id: int
    attempt: int
    delay: float
    reason: str


class DoneFrame(OutcomeFields):
    type: Literal["done"]
    message_id: int
    seq: int
    usage: UsageFields


class SubscribedFrame(TypedDict):
    type: Literal["subscribed"]
    conversation_id: int


class PongFrame(TypedDict):
    type: Literal["pong"]


ServerFrame = (
    ErrorFrame
    | MessageFrame
    | BranchFrame
    | ConversationFrame
    | TitleFrame
    | DeltaFrame
    | SnapshotFrame
    | ToolFrame
    | RetryingFrame
    | DoneFrame
    | SubscribedFrame
    | PongFrame
)


def frame_texts(frame: ServerFrame) -> list[str]:
    """What goes on the wire for a frame: its JSON text, or its parts if it is long."""
    # orjson: several times faster than the standard library, for a frame per delta.
    text = orjson.dumps(frame, option=orjson.OPT_NON_STR_KEYS).decode()
    if len(text) <= FRAME_PART_CHARS:
        return [text]
    starts = range(0, len(text), FRAME_PART_CHARS)
    return [
        orjson.dumps(
            {
                "type": "part",
                "data": text[start : start + FRAME_PART_CHARS],
                "last": start + FRAME_PART_CHARS >= len(text),
            }
        ).decode()
        for start in starts
    ]


def error_frame(code: str, message: str) -> ErrorFrame:
    return {"type": "error", "code": code, "message": message}


def pong_frame() -> PongFrame:
    return {"type": "pong"}


def subscribed_frame(conversation_id: int) -> SubscribedFrame:
    return {"type": "subscribed", "conversation_id": conversation_id}


def outcome_fields(outcome: AnswerOutcome) -> OutcomeFields:
    return {
        "status": outcome.status,
        "content": outcome.content,
        "reasoning": outcome.reasoning,
        "reasoning_ms": outcome.reasoning_ms,
        "tool_calls": outcome.tool_calls,
        "tool_runs": outcome.tool_runs,
        "finish_reason": outcome.finish_reason,
        "error": outcome.error,
    }


def _identity(
    message: Message,
    attachments: list[dict[str, Any]] | None,
    documents: list[dict[str, Any]] | None = None,
) -> _MessageIdentity:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "parent_id": message.parent_id,
        "role": message.role,
        "attachments": attachments or [],
        "documents": documents or [],
    }


def message_frame(
    message: Message,
    attachments: list[dict[str, Any]] | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> MessageFrame:
    """A message as it is saved now (a question, or an answer just begun)."""
    fields: MessageFields = {
        **_identity(message, attachments, documents),
        "content": message.content,
        "status": message.status,
    }
    return {"type": "message", "message": fields}


def branch_frame(
    *,
    conversation_id: int,
    branch: list[Message],
    siblings: dict[int, list[int]],
    attachments: dict[int, list[dict[str, Any]]] | None = None,
    documents: dict[int, list[dict[str, Any]]] | None = None,
) -> BranchFrame:
    """The selected branch, whole: the page shows exactly these messages, in this order."""
    attachments = attachments or {}
    documents = documents or {}
    messages: list[BranchMessage] = [
        {
            **_identity(message, attachments.get(message.pk), documents.get(message.pk)),
            **outcome_fields(AnswerOutcome.of(message)),
            "sibling_ids": siblings.get(message.pk, [message.pk]),
        }
        for message in branch
    ]
    return {"type": "branch", "conversation_id": conversation_id, "messages": messages}


def conversation_frame(*, conversation_id: int, title: str, url: str) -> ConversationFrame:
    return {
        "type": "conversation",
        "conversation": {"id": conversation_id, "title": title, "url": url},
    }


def title_frame(*, conversation_id: int, title: str) -> TitleFrame:
    return {"type": "title", "conversation": {"id": conversation_id, "title": title}}


def delta_frame(*, message_id: int, seq: int, content: str, reasoning: str) -> DeltaFrame:
    frame: DeltaFrame = {"type": "delta", "message_id": message_id, "seq": seq}
    if content:
        frame["content"] = content
    if reasoning:
        frame["reasoning"] = reasoning
    return frame


def snapshot_frame(
    *,
    message_id: int,
    seq: int,
    content: str,
    reasoning: str,
    tools: list[ToolRunState] | None = None,
) -> SnapshotFrame:
    return {
        "type": "snapshot",
        "message_id": message_id,
        "seq": seq,
        "content": content,
        "reasoning": reasoning,
        "tools": tools or [],
    }


def tool_frame(*, message_id: int, seq: int, run: ToolRunState) -> ToolFrame:
    return {"type": "tool", "message_id": message_id, "seq": seq, "run": run}


def retrying_frame(*, message_id: int, attempt: int, delay: float, reason: str) -> RetryingFrame:
    return {
        "type": "retrying",
        "message_id": message_id,
        "attempt": attempt,
        "delay": round(delay, 1),
        "reason": reason,
    }


def done_frame(
    *, message_id: int, seq: int, outcome: AnswerOutcome, usage: UsageCounts
) -> DoneFrame:
    """An answer has ended: what was saved, and its usage."""
    return {
        "type": "done",
        "message_id": message_id,
        "seq": seq,
        **outcome_fields(outcome),
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "estimated": usage.estimated,
        },
    }


def done_frame_from_message(message: Message, usage: Usage | None) -> DoneFrame:
    """The done frame for an answer as the database holds it (no live sequence: 0)."""
    counts = (
        UsageCounts(usage.prompt_tokens, usage.completion_tokens, estimated=usage.estimated)
        if usage
        else UsageCounts()
    )
    return done_frame(message_id=message.pk, seq=0, outcome=AnswerOutcome.of(message), usage=counts)


def _shown_runs(runs: list[ToolRunState]) -> list[ToolRunState]:
    return [{**run, "result": texts.shown(run["result"])} for run in runs]


def shown_frame(frame: ServerFrame) -> ServerFrame:
    """The frame as this reader sees it: the English texts saved with an answer (why it
    ended, what a tool call told the model, why the provider is asked again) in the
    active language; chat.texts and chat/upstream mark them. A copy: one frame
    goes to every socket of the conversation, each in its own language."""
    if frame["type"] == "done":
        return {
            **frame,
            "error": texts.shown(frame["error"]),
            "tool_runs": _shown_runs(frame["tool_runs"]),
        }
    if frame["type"] == "branch":
        messages: list[BranchMessage] = [
            {**m, "error": texts.shown(m["error"]), "tool_runs": _shown_runs(m["tool_runs"])}
            for m in frame["messages"]
        ]
        return {**frame, "messages": messages}
    if frame["type"] == "tool":
        return {**frame, "run": _shown_runs([frame["run"]])[0]}
    if frame["type"] == "snapshot":
        return {**frame, "tools": _shown_runs(frame["tools"])}
    if frame["type"] == "retrying":
        return {**frame, "reason": texts.shown(frame["reason"])}
    return frame
