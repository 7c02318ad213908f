"""The request for an answer: its branch after the system prompt, with the conversation's
provider, model and parameters."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from asgiref.sync import sync_to_async

from chat.models import Attachment, Conversation, Document, McpTool, Message
from chat.selectors import documents_of, message_lineage, model_documents
from chat.services.conversations.attachments import attachments_of, user_content
from chat.services.conversations.parameters import request_parameters
from chat.services.conversations.projects import project_documents
from chat.services.documents.context import (
    INSTRUCTION,
    document_context,
    document_file_parts,
    documents_fit,
)
from chat.services.documents.embeddings import embedder_get, question_vector
from chat.services.providers import provider_get
from chat.services.tools.offered import OfferedTool, tools_chosen, tools_for_request
from chat.services.tools.runs import tool_rounds_end, tool_rounds_messages
from chat.upstream.provider import Provider, default_provider


@dataclass(frozen=True)
class Retrieval:
    """Documents that did not fit whole, in a request whose passages were found by the
    question's words when it was built (in the send's transaction, where no network call
    can wait). chat_request_retrieve finds them again by meaning too, before the first
    round. What the question's message is made of is kept to build it again."""

    documents: list[Document]
    question: str
    budget: int | None
    asked: str | list[dict[str, Any]]
    parts: list[dict[str, Any]]


@dataclass(frozen=True)
class ChatRequest:
    user_id: int
    conversation_id: int
    model: str
    messages: list[dict[str, Any]]
    provider: Provider = field(default_factory=default_provider)
    # The parameters the user set for the conversation, as the request body spells them.
    parameters: dict[str, Any] = field(default_factory=dict)
    # The first answer of a new conversation: once it is complete, a title is asked for.
    wants_title: bool = False
    # The `tools` parameter, computed on the server from what the user chose and may use,
    # and how a called name is found again; empty: no tools are offered.
    tools: list[dict[str, Any]] = field(default_factory=list)
    offered: list[OfferedTool] = field(default_factory=list)
    # Passages still to be ranked by meaning: see Retrieval.
    retrieval: Retrieval | None = None

    def body(self, model: str, rounds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The request body: what the user set, then the model and the messages (with
        this answer's tool rounds so far), and the tools."""
        body = {**self.parameters, "model": model, "messages": self.messages + (rounds or [])}
        if self.tools:
            body["tools"] = self.tools
        return body

    @property
    def prompt_text(self) -> str:
        return self.prompt_text_with([])

    def prompt_text_with(self, rounds: list[dict[str, Any]]) -> str:
        """What a token estimate of a request's prompt counts: the messages (and this
        answer's tool rounds so far), and the tools offered, which the model reads too."""
        text = messages_text(self.messages + rounds)
        return text + "\n" + json.dumps(self.tools) if self.tools else text


def messages_text(messages: list[Any]) -> str:
    """The text of every message sent: what a token estimate of the prompt counts (an
    image's bytes are not text, and not counted)."""
    return "\n".join(_text_of(message) for message in messages if isinstance(message, dict))


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def chat_request_build(*, message_id: int, provider: Provider | None = None) -> ChatRequest:
    """The messages to send for a streaming answer: its branch, after the system prompt.
    `provider`: the conversation's, when the caller has resolved it already."""
    message = Message.objects.select_related("conversation").get(pk=message_id)
    branch = message_lineage(message=message)[:-1]
    return chat_request_of(conversation=message.conversation, branch=branch, provider=provider)


class Said(Protocol):
    """A message of the branch, as a request replays it (a Message, or a HistoryMessage)."""

    @property
    def pk(self) -> Any: ...
    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def tool_runs(self) -> Any: ...


def chat_request_of(
    *, conversation: Conversation, branch: Sequence[Said], provider: Provider | None = None
) -> ChatRequest:
    """The request for an answer that follows `branch` (oldest first, its question last),
    from messages already read: a send has them, and reads nothing twice. Each message
    may carry `has_attachments`; only those that do cost a query, for their images."""
    with_images = [m.pk for m in branch if getattr(m, "has_attachments", False)]
    images = attachments_of(with_images) if with_images else {}
    with_documents = [m.pk for m in branch if getattr(m, "has_documents", False)]
    documents = documents_of(message_ids=with_documents) if with_documents else []
    documents = _with_project_documents(conversation, documents)
    tools = tools_chosen(user_id=conversation.user_id, tool_ids=conversation.tool_ids)
    messages: list[dict[str, Any]] = []
    for past in branch:
        if past.role == Message.Role.ASSISTANT and past.tool_runs and tools:
            # What its tools returned is part of what the model said: replayed as rounds.
            messages += tool_rounds_messages(past.content, past.tool_runs)
            answer = past.content[tool_rounds_end(past.tool_runs) :].strip()
            if answer:
                messages.append({"role": past.role, "content": answer})
        # an answer that produced nothing has nothing to tell the model
        elif not (past.role == Message.Role.ASSISTANT and not past.content):
            content = user_content(past.content, images.get(past.pk, []))
            messages.append({"role": past.role, "content": content})
    retrieval = None
    if documents and branch:
        provider = provider or provider_get(conversation.provider)
        retrieval = _documents_add(conversation, provider, messages, documents, branch[-1].content)
    return _chat_request(
        conversation, messages, provider=provider, tools=tools, retrieval=retrieval
    )


def chat_request_first(
    *,
    conversation: Conversation,
    question: Message,
    attachments: list[Attachment] | None = None,
    provider: Provider | None = None,
    documents: list[Document] | None = None,
) -> ChatRequest:
    """The request for the first answer of a new conversation, without a query (but the
    documents' passages, when the question brought documents)."""
    content = user_content(question.content, attachments or [])
    messages = [{"role": question.role, "content": content}]
    retrieval = None
    documents = _with_project_documents(conversation, documents or [])
    if documents:
        provider = provider or provider_get(conversation.provider)
        retrieval = _documents_add(conversation, provider, messages, documents, question.content)
    tools = tools_chosen(user_id=conversation.user_id, tool_ids=conversation.tool_ids)
    return _chat_request(
        conversation,
        messages,
        provider=provider,
        wants_title=True,
        tools=tools,
        retrieval=retrieval,
    )


def _with_project_documents(
    conversation: Conversation, documents: list[Document]
) -> list[Document]:
    """The branch's documents, then its project's that the branch did not bring."""
    brought = {d.pk for d in documents}
    return documents + [d for d in project_documents(conversation) if d.pk not in brought]


def _documents_add(
    conversation: Conversation,
    provider: Provider,
    messages: list[dict[str, Any]],
    documents: list[Document],
    question: str,
) -> Retrieval | None:
    """The documents go into the question's message: their text (or the passages that
    answer it) before it, and PDFs as file parts where the model reads them itself.
    Returns what is left to rank by meaning, when embeddings are on and some documents
    that do not fit whole have vectors of the embeddings model."""
    model = conversation.model or provider.default_model
    setting = model_documents(provider=provider.name, model=model)
    files = [d for d in documents if setting and setting.reads_pdf and d.kind == "pdf"]
    as_text = [d for d in documents if d not in files]
    budget = setting.context_tokens if setting else None
    context = document_context(
        user_id=conversation.user_id, documents=as_text, question=question, budget=budget
    )
    parts = document_file_parts(files) if files else []
    asked = messages[-1]["content"]
    messages[-1]["content"] = _with_documents(asked, context, parts)
    embedder = embedder_get() if as_text and not documents_fit(as_text, budget) else None
    if embedder and any(d.embedding_model == embedder.model for d in as_text):
        return Retrieval(
            documents=as_text, question=question, budget=budget, asked=asked, parts=parts
        )
    return None


def _with_documents(
    asked: str | list[dict[str, Any]], context: str, parts: list[dict[str, Any]]
) -> str | list[dict[str, Any]]:
    """The question's content with the documents' text before it, and their file parts."""
    if parts and not context:
        context = INSTRUCTION
    if isinstance(asked, str) and not parts:
        return f"{context}\n\n{asked}"
    asked = asked if isinstance(asked, list) else [{"type": "text", "text": asked}]
    return [{"type": "text", "text": context}, *parts, *asked]


async def chat_request_retrieve(request: ChatRequest) -> ChatRequest:
    """The request with its documents' passages ranked by meaning and words together:
    the question's vector asked for now (a ledger row of its own). Unchanged, with the
    passages its words found, when embeddings are off or the request fails."""
    retrieval = request.retrieval
    if retrieval is None:
        return request
    embedder = await sync_to_async(embedder_get)()
    vector = (
        await question_vector(
            embedder,
            user_id=request.user_id,
            conversation_id=request.conversation_id,
            question=retrieval.question,
        )
        if embedder
        else None
    )
    if embedder is None or vector is None:
        return replace(request, retrieval=None)
    context = await sync_to_async(document_context)(
        user_id=request.user_id,
        documents=retrieval.documents,
        question=retrieval.question,
        budget=retrieval.budget,
        vector=vector,
        model=embedder.model,
    )
    question = {
        **request.messages[-1],
        "content": _with_documents(retrieval.asked, context, retrieval.parts),
    }
    return replace(request, messages=[*request.messages[:-1], question], retrieval=None)


def _chat_request(
    conversation: Conversation,
    messages: list[dict[str, Any]],
    *,
    provider: Provider | None,
    wants_title: bool = False,
    tools: list[McpTool] | None = None,
    retrieval: Retrieval | None = None,
) -> ChatRequest:
    """The conversation's system prompt, provider, model, parameters and tools around
    `messages`."""
    project = conversation.project if conversation.project_id else None
    # The project's instructions first, then the conversation's own; its parameters
    # under the conversation's.
    prompt = "\n\n".join(
        p for p in (project and project.system_prompt, conversation.system_prompt) if p
    )
    system = [{"role": "system", "content": prompt}]
    parameters = {**(project.parameters if project else {}), **conversation.parameters}
    parameter, offered = tools_for_request(tools or [])
    return ChatRequest(
        user_id=conversation.user_id,
        conversation_id=conversation.pk,
        model=conversation.model,
        messages=(system if prompt else []) + messages,
        # Resolving reads the provider's row and decrypts its key: once per send.
        provider=provider or provider_get(conversation.provider),
        parameters=request_parameters(parameters),
        wants_title=wants_title,
        tools=parameter,
        offered=offered,
        retrieval=retrieval,
    )
