"""A tool run's state as the page shows it and later requests replay it: one typed dict,
kept in `Message.tool_runs` (its own module: the answer's outcome holds a list of them)."""

from typing import TypedDict


class ToolRunState(TypedDict):
    id: str  # <round>-<index>: unique in its answer; what an approval names
    round: int
    call_id: str  # the model's id for the call, which its result must name
    name: str  # the function's name as the model called it
    label: str  # "Server: tool" for people; empty for a name that was not offered
    tool_id: int | None
    arguments: str  # JSON text, as the model wrote it
    approval: str  # "ask", "auto", or "" when it was never going to run
    status: str
    result: str  # what the model is told; untrusted text, shown sanitised
    truncated: bool
    duration_ms: int | None
    content_at: int  # how much of the answer's text came before the call
    approved_by: int | None
