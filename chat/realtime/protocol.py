"""The frames the browser sends over the websocket, parsed into typed dataclasses (or a
`ProtocolError` with a code the page understands). The server's own frames are in frames.py.

docs/websocket-protocol.md describes the same frames for people.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext

from chat.texts import number

# Where the chat socket listens (chat/realtime/routing.py); the page reads it from its
# config.
SOCKET_PATH = "ws/chat/"

# The codes the server closes the socket with, each telling the page what to do.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY_FRAMES = 4429
CLOSE_ACCOUNT_INACTIVE = 4403
# The channel layer lost what it carried (Redis restarted): the page reconnects at once
# and subscribes again, which brings snapshots (or the saved answers) with no gap.
CLOSE_LAYER_RECOVERED = 4503


class ProtocolError(Exception):
    def __init__(self, code: str, message: str | Promise) -> None:
        # A lazy text (chat.texts) is translated here, in the socket's language.
        super().__init__(str(message))
        self.code = code
        self.message = str(message)


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
    # Documents of the user's library (POST /documents/upload/) the question brings.
    document_ids: tuple[int, ...] = ()
    # The user's project a new conversation starts in; None: in none.
    project_id: int | None = None


@dataclass(frozen=True)
class Stop:
    message_id: int


@dataclass(frozen=True)
class Approve:
    """The user's decision on a tool call that waits for it."""

    message_id: int
    run_id: str
    approved: bool


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


ClientFrame = Send | Stop | Approve | Subscribe | Ping | Regenerate | Edit | SelectBranch
_RUN_ID = re.compile(r"[0-9]{1,4}-[0-9]{1,4}")


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
            document_ids=_ids(data, "document_ids", limit=settings.CHAT_DOCUMENTS_PER_MESSAGE),
            project_id=_id(data, "project_id", optional=True),
        )
    if kind == "regenerate":
        return Regenerate(message_id=_required_id(data, "message_id"))
    if kind == "edit":
        return Edit(message_id=_required_id(data, "message_id"), content=_content(data))
    if kind == "select_branch":
        return SelectBranch(message_id=_required_id(data, "message_id"))
    if kind == "stop":
        return Stop(message_id=_required_id(data, "message_id"))
    if kind == "approve":
        run_id, approved = data.get("run_id"), data.get("approved")
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise ProtocolError("invalid_field", "'run_id' must name a tool call, like '1-0'.")
        if not isinstance(approved, bool):
            raise ProtocolError("invalid_field", "'approved' must be true or false.")
        return Approve(
            message_id=_required_id(data, "message_id"), run_id=run_id, approved=approved
        )
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
        raise ProtocolError("invalid_field", gettext("The message is empty."))
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(content) > limit:
        raise ProtocolError(
            "too_long",
            gettext("The message is %(length)s characters; the limit is %(limit)s.")
            % {"length": number(len(content)), "limit": number(limit)},
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
