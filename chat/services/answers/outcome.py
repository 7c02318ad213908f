"""An answer's final state: what the final save writes, and what the `done` frame and the
branch frame show. One description, so the three cannot drift apart."""

from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

from chat.models import Message
from chat.services.tools.states import ToolRunState


class ToolCallFunction(TypedDict):
    name: str
    arguments: str  # JSON text, as the model wrote it


class ToolCall(TypedDict):
    """A tool call the model returned, joined from its streamed pieces (API shape)."""

    id: str
    type: str
    function: ToolCallFunction


@dataclass(frozen=True)
class AnswerOutcome:
    """Each field is the `Message` column of the same name."""

    status: str
    content: str
    reasoning: str = ""
    reasoning_ms: int | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_runs: list[ToolRunState] = field(default_factory=list)
    finish_reason: str = ""
    error: str = ""

    @classmethod
    def of(cls, message: Message) -> "AnswerOutcome":
        """The outcome as the database holds it."""
        return cls(**{name: getattr(message, name) for name in _NAMES})

    def columns(self) -> dict[str, Any]:
        """The columns the final save writes."""
        return {name: getattr(self, name) for name in _NAMES}


_NAMES = tuple(f.name for f in fields(AnswerOutcome))
