"""The typed events one streamed chat completion turns into."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContentDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call; pieces with the same index belong to one call."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class Finish:
    reason: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The provider's own token counts: what it bills."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Retrying:
    """An upstream request failed before any token; the client tries again after `delay`."""

    attempt: int  # the attempt that failed, from 1
    delay: float
    message: str
    status_code: int | None
    # It had begun streaming (HTTP 200): the provider read the prompt and bills it.
    reached: bool = False


StreamEvent = ContentDelta | ReasoningDelta | ToolCallDelta | Finish | UsageReport | Retrying
TOKEN_EVENTS = (ContentDelta, ReasoningDelta, ToolCallDelta)
