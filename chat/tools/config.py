"""What the MCP client takes and gives, without the SDK: the rest of the site imports these
at start, and the SDK (25 MB and 0.6 s in each process, docs/benchmarks.md) only when a
server is first used."""

from dataclasses import dataclass, field
from typing import Any


class ServerUnavailable(Exception):
    """The server could not be reached or answered outside the protocol."""


@dataclass(frozen=True)
class ServerConfig:
    """How to reach a server: a URL (with an optional secret header) or a stdio name."""

    name: str
    url: str = ""
    stdio: str = ""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    allow_private: bool = False


@dataclass(frozen=True)
class ToolListed:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolResult:
    """What a tool gave back, as text for the model (untrusted: shown sanitised, and cut
    to `limit` characters), and whether the tool said it failed."""

    text: str
    is_error: bool
    truncated: bool = False
