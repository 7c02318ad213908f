"""Conversations brought from elsewhere: a ChatGPT data export's conversations.json, or
chatsite's own JSON export (one conversation, or a list of them). The file is read as a
stream (ijson), one conversation at a time: checked whole first, then saved in one
transaction, so that a bad or oversized file is refused with the reason and nothing of it
is saved. Branches are kept: both formats hold a tree of messages and the branch shown.

Kept: questions and answers (their text, an answer's reasoning and model), the title,
a chatsite conversation's system prompt, and when a conversation was last written in.
Left out: tool calls and runs, images, documents, and a ChatGPT export's hidden and
system messages.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import ijson
from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from chat import texts
from chat.models import Conversation, Message, User
from chat.services.conversations.titles import TITLE_MAX_CHARS

# A message's text longer than this is refused (an answer may be far longer than what a
# person may type: CHAT_MAX_MESSAGE_CHARS bounds questions only).
MESSAGE_MAX_CHARS = 1_000_000
_ROLES = {"user": Message.Role.USER, "assistant": Message.Role.ASSISTANT}
# A chatsite answer keeps how it ended; one left streaming was cut off by the export.
_STATUSES = {
    "complete": Message.Status.COMPLETE,
    "stopped": Message.Status.STOPPED,
    "error": Message.Status.ERROR,
    "interrupted": Message.Status.INTERRUPTED,
    "streaming": Message.Status.INTERRUPTED,
}
MODEL_MAX_CHARS = 200
# The parts of a ChatGPT message that are text a person or the model wrote.
_CHATGPT_TEXT = {"text", "multimodal_text"}
# Conversations saved together (a few statements for them all: _save).
SAVE_BATCH = 200
# How deep the file's JSON may nest (a ChatGPT export needs 8): a few kilobytes of "["
# would otherwise take gigabytes to read. And how many JSON values one conversation may
# hold (a message of ChatGPT's has about 40): its objects are built whole.
MAX_DEPTH = 32
MAX_VALUES = 500_000


class ImportRefused(Exception):
    """The file cannot be imported; the message says why (and where)."""


@dataclass
class Said:
    key: str
    parent: str | None
    role: str
    content: str
    reasoning: str = ""
    model: str = ""
    status: str = Message.Status.COMPLETE


@dataclass
class Imported:
    title: str
    system_prompt: str = ""
    updated_at: datetime.datetime | None = None
    messages: list[Said] = field(default_factory=list)  # parents before children
    leaf: str | None = None


@dataclass(frozen=True)
class ImportResult:
    conversations: int
    messages: int


def conversations_import(*, user: User, file: IO[bytes]) -> ImportResult:
    """Import every conversation in the file for the user, or none. Raises ImportRefused."""
    _shape_check(file)
    counted = sum(len(c.messages) for c in _conversations(file))  # read once to check it
    file.seek(0)
    made = 0
    with transaction.atomic():
        batch: list[Imported] = []
        for imported in _conversations(file):
            batch.append(imported)
            if len(batch) == SAVE_BATCH:
                made += _save(user, batch)
                batch = []
        made += _save(user, batch)
    return ImportResult(conversations=made, messages=counted)


def _shape_check(file: IO[bytes]) -> None:
    """Read the file's JSON as events only (nothing built) to refuse one nested too deep
    or with a conversation too large to build, before anything builds it."""
    size = file.seek(0, 2)
    file.seek(0)
    if size > settings.CHAT_IMPORT_MAX_BYTES:
        raise ImportRefused(
            gettext("The file is %(size)s; at most %(limit)s can be imported at once.")
            % {
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.CHAT_IMPORT_MAX_BYTES),
            }
        )
    first = file.read(64).lstrip()[:1]
    file.seek(0)
    if first not in (b"[", b"{"):
        raise ImportRefused(
            gettext("The file is not JSON: choose conversations.json or a JSON export.")
        )
    depth = values = 0
    try:
        for _, event, _ in ijson.parse(file):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ImportRefused(
                        gettext("The file nests deeper than %(limit)s levels.")
                        % {"limit": texts.number(MAX_DEPTH)}
                    )
            elif event in ("end_map", "end_array"):
                depth -= 1
            # Values within one conversation (an item of the list, or the whole object).
            values = 0 if depth <= 1 else values + 1
            if values > MAX_VALUES:
                raise ImportRefused(
                    gettext("A conversation holds more than %(limit)s values.")
                    % {"limit": texts.number(MAX_VALUES)}
                )
    except ijson.JSONError:
        raise ImportRefused(gettext("The file is not valid JSON: it may be cut short.")) from None
    except (UnicodeDecodeError, ValueError):
        raise ImportRefused(gettext("The file is not valid JSON.")) from None
    file.seek(0)


def _conversations(file: IO[bytes]) -> Iterator[Imported]:
    """Each conversation of the file, checked; raises ImportRefused at the first fault."""
    first = file.read(64).lstrip()[:1]
    file.seek(0)
    items = ijson.items(file, "item" if first == b"[" else "", use_float=True)
    try:
        for index, item in enumerate(items, start=1):
            if index > settings.CHAT_IMPORT_MAX_CONVERSATIONS:
                raise ImportRefused(
                    gettext("The file has more than %(limit)s conversations; import it in parts.")
                    % {"limit": texts.number(settings.CHAT_IMPORT_MAX_CONVERSATIONS)}
                )
            try:
                yield _read(item)
            except ImportRefused as exc:
                raise ImportRefused(
                    gettext("Conversation %(number)s: %(reason)s")
                    % {"number": texts.number(index), "reason": exc}
                ) from None
            # A shape none of the checks foresaw: refused all the same, never a 500.
            except (TypeError, AttributeError, KeyError, ValueError, RecursionError):
                raise ImportRefused(
                    gettext("Conversation %(number)s could not be read.")
                    % {"number": texts.number(index)}
                ) from None
    except ijson.JSONError:
        raise ImportRefused(gettext("The file is not valid JSON: it may be cut short.")) from None
    # Anything ijson cannot even begin to read (bytes that are not UTF-8, say).
    except (UnicodeDecodeError, ValueError):
        raise ImportRefused(gettext("The file is not valid JSON.")) from None


def _read(item: Any) -> Imported:
    if isinstance(item, dict) and isinstance(item.get("mapping"), dict):
        imported = _from_chatgpt(item)
    elif isinstance(item, dict) and isinstance(item.get("messages"), list):
        imported = _from_chatsite(item)
    else:
        raise ImportRefused(gettext("it is neither a ChatGPT conversation nor a chatsite export."))
    if len(imported.messages) > settings.CHAT_IMPORT_MAX_MESSAGES:
        raise ImportRefused(
            gettext("it has more than %(limit)s messages.")
            % {"limit": texts.number(settings.CHAT_IMPORT_MAX_MESSAGES)}
        )
    for said in imported.messages:
        if len(said.content) > MESSAGE_MAX_CHARS or len(said.reasoning) > MESSAGE_MAX_CHARS:
            raise ImportRefused(
                gettext("a message is longer than %(limit)s characters.")
                % {"limit": texts.number(MESSAGE_MAX_CHARS)}
            )
    return imported


def _key(value: Any) -> str:
    """An id or a name as the file gives it: text or a whole number, else "" (nothing
    of any other type is turned into text: a nested list would recurse)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _text(value: Any, what: str | Promise) -> str:
    """The value as text; `what` is the refusal's text when it is not text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportRefused(str(what))
    # PostgreSQL keeps no NUL in text; a lone surrogate is no character.
    return value.replace("\x00", "").encode("utf-8", "replace").decode()


def _when(value: Any) -> datetime.datetime | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        if isinstance(value, str):
            when = datetime.datetime.fromisoformat(value)
            return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return None


def _from_chatgpt(item: dict[str, Any]) -> Imported:
    """A ChatGPT conversation: a tree of nodes (`mapping`), each maybe with a message;
    those left out (the root, system and tool messages, hidden ones) pass their place in
    the tree to their children."""
    mapping: dict[str, Any] = item["mapping"]
    imported = Imported(
        title=_text(item.get("title"), gettext_lazy("the title is not text."))[:TITLE_MAX_CHARS],
        updated_at=_when(item.get("update_time")),
    )
    kept: dict[str, str | None] = {}  # node id -> the id of the message it stands for

    def walk(root: str) -> None:
        stack: list[tuple[str, str | None]] = [(root, None)]
        while stack:
            node_id, above = stack.pop()
            if node_id in kept:
                raise ImportRefused(gettext("its messages loop."))
            node = mapping.get(node_id)
            if not isinstance(node, dict):
                raise ImportRefused(
                    gettext("the message %(id)s is missing.") % {"id": repr(node_id[:40])}
                )
            said = _chatgpt_said(node_id, node.get("message"), above)
            if said:
                imported.messages.append(said)
            kept[node_id] = said.key if said else above
            children = node.get("children") or []
            if not isinstance(children, list):
                raise ImportRefused(gettext("a message's replies are not a list."))
            if not all(isinstance(child, str) for child in children):
                raise ImportRefused(gettext("a message's replies are not ids."))
            stack.extend((child, kept[node_id]) for child in reversed(children))

    roots = [k for k, n in mapping.items() if isinstance(n, dict) and n.get("parent") is None]
    for root in roots:
        walk(root)
    current = item.get("current_node")
    imported.leaf = kept.get(current) if isinstance(current, str) else None
    return imported


def _chatgpt_said(node_id: str, message: Any, above: str | None) -> Said | None:
    if message is None:
        return None
    if not isinstance(message, dict):
        raise ImportRefused(gettext("a message is not an object."))
    author = message.get("author")
    role = _ROLES.get(_key(author.get("role"))) if isinstance(author, dict) else None
    metadata = message.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    if role is None or metadata.get("is_visually_hidden_from_conversation"):
        return None
    content = message.get("content")
    if not isinstance(content, dict) or _key(content.get("content_type")) not in _CHATGPT_TEXT:
        return None
    parts = content.get("parts") or []
    if not isinstance(parts, list):
        raise ImportRefused(gettext("a message's parts are not a list."))
    # Images and files are parts that are objects: left out.
    text = "\n\n".join(
        _text(p, gettext_lazy("a message is not text.")) for p in parts if isinstance(p, str)
    ).strip()
    if not text:
        return None
    model = metadata.get("model_slug")
    return Said(
        key=node_id,
        parent=above,
        role=role,
        content=text,
        model=_text(model, gettext_lazy("a model is not text."))[:MODEL_MAX_CHARS]
        if role == Message.Role.ASSISTANT
        else "",
    )


def _from_chatsite(item: dict[str, Any]) -> Imported:
    """chatsite's JSON export: every message with its parent's id, and the branch shown."""
    imported = Imported(
        title=_text(item.get("title"), gettext_lazy("the title is not text."))[:TITLE_MAX_CHARS],
        system_prompt=_text(
            item.get("system_prompt"), gettext_lazy("the system prompt is not text.")
        ),
        updated_at=_when(item.get("updated_at")),
    )
    seen: dict[str, str | None] = {}  # message id -> the id of the message it stands for
    for message in item["messages"]:
        if not isinstance(message, dict) or not _key(message.get("id")):
            raise ImportRefused(gettext("a message has no id."))
        key, parent = _key(message["id"]), message.get("parent_id")
        if key in seen:
            raise ImportRefused(gettext("the message %(id)s comes twice.") % {"id": key[:40]})
        if parent is not None and _key(parent) not in seen:
            raise ImportRefused(
                gettext("the message %(id)s comes before the one it answers.") % {"id": key[:40]}
            )
        above = seen.get(_key(parent)) if parent is not None else None
        role = _ROLES.get(_key(message.get("role")))
        content = _text(message.get("content"), gettext_lazy("a message is not text."))
        if role is None or not content:
            seen[key] = above
            continue
        seen[key] = key
        imported.messages.append(
            Said(
                key=key,
                parent=above,
                role=role,
                content=content,
                reasoning=_text(
                    message.get("reasoning"), gettext_lazy("an answer's reasoning is not text.")
                ),
                model=_text(message.get("model"), gettext_lazy("a model is not text."))[
                    :MODEL_MAX_CHARS
                ],
                status=_STATUSES.get(_key(message.get("status")), Message.Status.COMPLETE),
            )
        )
    branch = item.get("branch")
    if isinstance(branch, list) and branch:
        imported.leaf = seen.get(_key(branch[-1]))
    return imported


def _save(user: User, batch: list[Imported]) -> int:
    """Save these conversations with a few statements: the conversations, then their
    messages one depth of the trees at a time (a message's parent is saved, with its id,
    before it), then each one's branch shown and its time. One insert per message cost
    4 ms a message, most of it Django's work per statement (docs/benchmarks.md)."""
    conversations = Conversation.objects.bulk_create(
        [Conversation(user=user, title=i.title, system_prompt=i.system_prompt) for i in batch]
    )
    made: list[dict[str, Message]] = [{} for _ in batch]
    depth: list[dict[str, int]] = [{} for _ in batch]
    layers: dict[int, list[tuple[int, Said]]] = {}
    for number, imported in enumerate(batch):
        for said in imported.messages:
            level = depth[number][said.parent] + 1 if said.parent else 0
            depth[number][said.key] = level
            layers.setdefault(level, []).append((number, said))
    for level in sorted(layers):
        rows = [
            Message(
                conversation=conversations[number],
                parent=made[number][said.parent] if said.parent else None,
                role=said.role,
                content=said.content,
                reasoning=said.reasoning,
                model=said.model,
                status=said.status,
            )
            for number, said in layers[level]
        ]
        for (number, said), row in zip(
            layers[level], Message.objects.bulk_create(rows), strict=True
        ):
            made[number][said.key] = row
    now = timezone.now()
    for number, (conversation, imported) in enumerate(zip(conversations, batch, strict=True)):
        conversation.current_leaf = made[number].get(imported.leaf) if imported.leaf else None
        # Its place in the list: when it was last written in where it comes from (never
        # later than now). Retention counts from its import too (created_at).
        conversation.updated_at = min(imported.updated_at or now, now)
    # An update, not save(): updated_at keeps the time given (auto_now would replace it).
    Conversation.objects.bulk_update(conversations, ["current_leaf", "updated_at"])
    return len(conversations)
