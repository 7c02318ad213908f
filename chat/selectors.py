"""Reads, each scoped to the user who owns the object: another user's id is simply not found."""

import functools
import importlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.db import connection
from django.db.models import Exists, F, Field, Model, OuterRef, Q, QuerySet, Sum

from chat.models import (
    Attachment,
    Conversation,
    Document,
    Message,
    ModelDocuments,
    Passage,
    Share,
    Usage,
    User,
)
from chat.services.tools.states import ToolRunState


def conversation_list(*, user: User) -> QuerySet[Conversation]:
    """The user's conversations as the list shows them: pinned ones first (the most
    recently pinned first), then the most recently active; archived ones left out."""
    return Conversation.objects.filter(user=user, archived_at__isnull=True).order_by(
        F("pinned_at").desc(nulls_last=True), "-updated_at", "-id"
    )


def shares_of(*, user: User) -> QuerySet[Share]:
    """The user's share links that still work, newest first."""
    return Share.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")


def conversations_archived(*, user: User) -> QuerySet[Conversation]:
    """The user's archived conversations, the most recently archived first."""
    return Conversation.objects.filter(user=user, archived_at__isnull=False).order_by(
        "-archived_at", "-id"
    )


def conversation_get(*, user: User, conversation_id: int) -> Conversation:
    """Raises Conversation.DoesNotExist for a missing id and for another user's alike."""
    return Conversation.objects.get(pk=conversation_id, user=user)


def message_get(*, user: User, message_id: int) -> Message:
    """Raises Message.DoesNotExist for a missing id and for another user's alike."""
    return Message.objects.select_related("conversation").get(
        pk=message_id, conversation__user=user
    )


def document_get(*, user: User, document_id: int) -> Document:
    """Raises Document.DoesNotExist for a missing id and for another user's alike."""
    return Document.objects.defer("data").get(pk=document_id, user=user)


def document_list(*, user: User) -> QuerySet[Document]:
    """The user's library, newest first, without the documents' bytes."""
    return Document.objects.filter(user=user).defer("data")


def documents_by_message(*, message_ids: Iterable[int]) -> dict[int, list[Document]]:
    """Message id -> the documents it brought (without their bytes), in one query."""
    through = Message.documents.through
    links = (
        through.objects.filter(message_id__in=list(message_ids))
        .select_related("document")
        .defer("document__data")
        .order_by("message_id", "id")
    )
    found: dict[int, list[Document]] = {}
    for link in links:
        found.setdefault(link.message_id, []).append(link.document)
    return found


def documents_of(*, message_ids: Sequence[int]) -> list[Document]:
    """The documents these messages brought, each once, in the order they were brought.
    The messages are the caller's, read scoped to their owner."""
    brought = documents_by_message(message_ids=message_ids).values()
    return list({d.pk: d for documents in brought for d in documents}.values())


def model_documents(*, provider: str, model: str) -> ModelDocuments | None:
    """How this model takes documents: the provider's own setting, else any provider's,
    else None (the site's defaults). `provider` as the ledger names it."""
    rows = {
        (row.provider, row.model): row
        for row in ModelDocuments.objects.filter(model=model, provider__in=[provider, ""])
    }
    return rows.get((provider, model)) or rows.get(("", model))


def attachment_get(*, user: User, attachment_id: int) -> Attachment:
    """Raises Attachment.DoesNotExist for a missing id and for another user's alike."""
    return Attachment.objects.get(pk=attachment_id, user=user)


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    return list(conversation.messages.order_by("created_at", "id"))


def conversation_messages_by_id(*, conversation: Conversation) -> dict[int, Message]:
    """Every message of the conversation by id, oldest first, in one query; each carries
    `has_attachments` and `has_documents`, so a branch without images or documents costs
    no query for them."""
    images = Attachment.objects.filter(message=OuterRef("pk"))
    documents = Message.documents.through.objects.filter(message_id=OuterRef("pk"))
    messages = conversation.messages.annotate(
        has_attachments=Exists(images), has_documents=Exists(documents)
    )
    return {m.pk: m for m in messages.order_by("created_at", "id")}


class HistoryMessage:
    """A message as a follow-up needs it: its place in the tree, what it said, whether it
    still streams, has images, brought documents. Read without the ORM's per-row work."""

    __slots__ = (
        "content",
        "has_attachments",
        "has_documents",
        "parent_id",
        "pk",
        "role",
        "status",
        "tool_runs",
    )

    def __init__(
        self,
        pk: int,
        parent_id: int | None,
        role: str,
        content: str,
        status: str,
        tool_runs: list[ToolRunState],
        has_attachments: bool,
        has_documents: bool,
    ) -> None:
        self.pk, self.parent_id, self.role, self.content = pk, parent_id, role, content
        self.status, self.tool_runs, self.has_attachments = status, tool_runs, has_attachments
        self.has_documents = has_documents


def conversation_history(*, conversation_id: int) -> dict[int, HistoryMessage]:
    """Every message of the conversation by id, oldest first, in one statement.

    A follow-up reads the whole conversation before its first token. Through the ORM that
    cost 1.5 ms for 31 messages (three datetimes and two JSON columns converted, a model
    built per row; the statement itself 0.17 ms): 9 % of the server's CPU under the relay
    benchmark, and more the longer a conversation grows. Only the columns a request needs
    are read, and a tool run's JSON only when there is one. The caller has checked that
    the conversation is the user's.
    """
    with connection.cursor() as cursor:
        cursor.execute(_history_sql(), [conversation_id])
        rows = cursor.fetchall()
    return {
        row[0]: HistoryMessage(
            row[0], row[1], row[2], row[3], row[4], _json_list(row[5]), bool(row[6]), bool(row[7])
        )
        for row in rows
    }


def _json_list(value: object) -> list[Any]:
    # SQLite gives a JSON column's text; PostgreSQL may give it parsed.
    if isinstance(value, str):
        return json.loads(value) if value != "[]" else []
    return value if isinstance(value, list) else []


@functools.cache
def _history_sql() -> str:
    # Only quoted names from the models go into the text; the id is a parameter.
    quote = connection.ops.quote_name
    message = quote(Message._meta.db_table)
    attachment = quote(Attachment._meta.db_table)
    columns = ", ".join(
        f"m.{_column(Message, name)}"
        for name in ("id", "parent", "role", "content", "status", "tool_runs")
    )
    attached, pk = _column(Attachment, "message"), _column(Message, "id")
    conversation, created = _column(Message, "conversation"), _column(Message, "created_at")
    through = Message.documents.through
    brought, bringing = quote(through._meta.db_table), _column(through, "message")
    return (
        f"SELECT {columns}, EXISTS(SELECT 1 FROM {attachment} a "  # noqa: S608
        f"WHERE a.{attached} = m.{pk}), EXISTS(SELECT 1 FROM {brought} b "
        f"WHERE b.{bringing} = m.{pk}) FROM {message} m "
        f"WHERE m.{conversation} = %s ORDER BY m.{created}, m.{pk}"
    )


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    assert field.column
    return connection.ops.quote_name(field.column)


class _Node(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def parent_id(self) -> Any: ...


_M = TypeVar("_M", bound=_Node)


def branch_from(messages: dict[int, _M], leaf_id: int | None) -> list[_M]:
    """The branch that ends at `leaf_id` (the newest message when it is not there),
    oldest first, from messages already read oldest first."""
    if leaf_id not in messages:
        leaf_id = next(reversed(messages)) if messages else None
    branch: list[_M] = []
    while leaf_id is not None:
        message = messages[leaf_id]
        branch.append(message)
        leaf_id = message.parent_id
    branch.reverse()
    return branch


def message_lineage(*, message: Message) -> list[Message]:
    """The message and its ancestors, oldest first: the branch sent upstream.

    Each carries `has_attachments`, read in the same query, so a branch without images
    costs no query for them.
    """
    by_id = conversation_messages_by_id(conversation=message.conversation)
    lineage: list[Message] = []
    current: Message | None = by_id.get(message.pk, message)
    while current is not None:
        lineage.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    lineage.reverse()
    return lineage


def message_usage(*, message: Message) -> Usage | None:
    return Usage.objects.filter(message=message).order_by("-created_at", "-id").first()


def answers_streaming(*, conversation_id: int) -> list[int]:
    """Ids of the conversation's answers still being written."""
    return list(
        Message.objects.filter(
            conversation_id=conversation_id, status=Message.Status.STREAMING
        ).values_list("pk", flat=True)
    )


def answers_ended(
    *, conversation_id: int, message_ids: Iterable[int]
) -> list[tuple[Message, Usage | None]]:
    """Those of the given answers of the conversation that are no longer being written,
    each with its usage row."""
    ended = Message.objects.filter(conversation_id=conversation_id, pk__in=message_ids).exclude(
        status=Message.Status.STREAMING
    )
    return [(message, message_usage(message=message)) for message in ended]


# --- branches ---------------------------------------------------------------------------
# Edits and regenerations add siblings under one parent; the conversation remembers the
# leaf of the branch the user selected. These read the whole tree in one query: a
# conversation holds hundreds of messages, not millions.


def _tree(conversation: Conversation) -> dict[int, Message]:
    return {m.pk: m for m in conversation.messages.order_by("created_at", "id")}


def conversation_branch(*, conversation: Conversation) -> list[Message]:
    """The messages of the selected branch, oldest first: what the page shows."""
    return branch_from(_tree(conversation), conversation.current_leaf_id)


def branch_siblings(*, conversation: Conversation, branch: list[Message]) -> dict[int, list[int]]:
    """For each message of the branch, the ids of it and its siblings, oldest first."""
    by_parent: dict[int | None, list[int]] = {}
    for message_id, parent_id in conversation.messages.order_by("created_at", "id").values_list(
        "pk", "parent_id"
    ):
        by_parent.setdefault(parent_id, []).append(message_id)
    return {message.pk: by_parent.get(message.parent_id, [message.pk]) for message in branch}


def branch_leaf_under(*, message: Message) -> Message:
    """Where the branch through `message` ends: down from it, at each fork, the child
    last selected (a new message counts as selected when it is made)."""
    children: dict[int, list[Message]] = {}
    for m in _tree(message.conversation).values():
        if m.parent_id is not None:
            children.setdefault(m.parent_id, []).append(m)
    current = message
    while children.get(current.pk):
        current = max(children[current.pk], key=_last_selected)
    return current


def _last_selected(message: Message) -> tuple[datetime, int]:
    return (max(message.selected_at or message.created_at, message.created_at), message.pk)


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    conversation: Conversation
    snippet: str  # where the words were found in a message, or "" when only the title


def conversation_search(*, user: User, query: str, limit: int = 50) -> list[SearchHit]:
    """The user's conversations whose title or any message contains the query, newest
    first. Only the user's own: the filter on user comes before anything else."""
    query = query.strip()
    if not query:
        return []
    own = Conversation.objects.filter(user=user)
    found = (
        own.filter(Q(title__icontains=query) | Q(messages__content__icontains=query))
        .distinct()
        .order_by("-updated_at", "-id")[:limit]
    )
    conversations = list(found)
    snippets: dict[int, str] = {}
    for conversation_id, content in (
        Message.objects.filter(
            conversation__in=conversations,
            conversation__user=user,
            content__icontains=query,
        )
        .order_by("created_at", "id")
        .values_list("conversation_id", "content")
    ):
        snippets.setdefault(conversation_id, _snippet(content, query))
    return [SearchHit(c, snippets.get(c.pk, "")) for c in conversations]


def _snippet(text: str, query: str, around: int = 40) -> str:
    at = text.lower().find(query.lower())
    start, end = max(0, at - around), min(len(text), at + len(query) + around)
    words = " ".join(text[start:end].split())
    return ("…" if start else "") + words + ("…" if end < len(text) else "")


# What a search reads of a question: its words, at most this many.
_SEARCH_WORDS = 32


def passages_search(
    *, user_id: int, document_ids: Sequence[int], query: str, limit: int = 8
) -> list[Passage]:
    """The passages of these documents of the user's that best answer `query`, best first.

    Any word of the query may match (stemmed as English: "zebras" finds "zebra"), the
    rarer and more often the better: bm25 on SQLite's FTS5 table, ts_rank over
    PostgreSQL's stored search vector and its GIN index (migration 0011). Another user's
    document id finds nothing, as a missing one.
    """
    words = re.findall(r"\w+", query)[:_SEARCH_WORDS]
    if not words or not document_ids:
        return []
    ids = list(document_ids)
    marks = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        # websearch_to_tsquery never fails on its input; "or" between the words makes
        # any of them match. The vector is the stored column (migration 0011).
        sql = (
            "SELECT p.id FROM chat_passage p JOIN chat_document d ON d.id = p.document_id, "  # noqa: S608 - marks only
            "websearch_to_tsquery('english', %s) q "
            f"WHERE p.search @@ q AND d.user_id = %s AND p.document_id IN ({marks}) "
            "ORDER BY ts_rank(p.search, q) DESC, p.id LIMIT %s"
        )
        wanted = " or ".join(words)
    else:
        # FTS5 reads quotes and operators in a MATCH: each word goes quoted, any may match.
        sql = (
            "SELECT f.rowid FROM chat_passage_fts f "  # noqa: S608 - marks only
            "JOIN chat_passage p ON p.id = f.rowid JOIN chat_document d ON d.id = p.document_id "
            f"WHERE chat_passage_fts MATCH %s AND d.user_id = %s AND p.document_id IN ({marks}) "
            "ORDER BY bm25(chat_passage_fts) LIMIT %s"
        )
        wanted = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    with connection.cursor() as cursor:
        cursor.execute(sql, [wanted, user_id, *ids, limit])  # only marks in the text
        best = [row[0] for row in cursor.fetchall()]
    found = Passage.objects.defer("embedding").in_bulk(best)
    return [found[pk] for pk in best]


def library_size(*, user: User) -> int:
    """The sizes of the files in the user's library, added up."""
    total = Document.objects.filter(user=user).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


def passages_by_meaning(
    *, user_id: int, document_ids: Sequence[int], vector: bytes, model: str, limit: int = 8
) -> list[int]:
    """The ids of the passages of these documents of the user's nearest `vector` (from
    `model`) in meaning, nearest first. Every passage is compared: a question's documents
    hold a few thousand at most (docs/benchmarks.md), and Debian's PostgreSQL has no
    pgvector for an index to pay off. Another user's document id finds nothing."""
    candidates = Passage.objects.filter(
        document_id__in=list(document_ids),
        document__user_id=user_id,
        document__embedding_model=model,
        embedding__isnull=False,
    ).order_by("document_id", "n")
    rows = list(candidates.values_list("pk", "embedding"))
    nearest = importlib.import_module("chat.documents.vectors").vectors_nearest
    return list(nearest(vector, rows, limit))
