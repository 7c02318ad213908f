"""A conversation as a file: Markdown (the branch the user sees) or JSON (everything)."""

from typing import Any

from chat.models import Conversation, Message

ROLE_HEADINGS = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def export_filename(conversation: Conversation, extension: str) -> str:
    # Only the id: a title can hold anything, and a header is no place for it.
    return f"chatsite-conversation-{conversation.pk}.{extension}"


def conversation_markdown(
    *,
    conversation: Conversation,
    branch: list[Message],
    documents: dict[int, list[str]] | None = None,
) -> str:
    """The selected branch, as read on the page; `documents`: message id -> the names of
    the documents it brought."""
    documents = documents or {}
    lines = [f"# {conversation.title or 'Conversation'}", ""]
    if conversation.system_prompt:
        lines += ["## System prompt", "", conversation.system_prompt, ""]
    for message in branch:
        lines += [f"## {ROLE_HEADINGS.get(message.role, message.role)}", ""]
        if message.pk in documents:
            lines += [f"*Documents: {', '.join(documents[message.pk])}*", ""]
        for run in message.tool_runs:
            lines += [f"*Tool {run['label'] or run['name']} ({run['status']})*", ""]
        lines += [message.content, ""]
        if message.status not in (Message.Status.COMPLETE, Message.Status.STREAMING):
            note = f"*({message.status}{': ' + message.error if message.error else ''})*"
            lines += [note, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def conversation_json(
    *,
    conversation: Conversation,
    messages: list[Message],
    branch: list[Message],
    documents: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    """Every message with its parent, so no version is lost; `branch` lists the selected one.
    `documents`: message id -> the names of the documents it brought."""
    documents = documents or {}
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "parameters": conversation.parameters,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "branch": [message.pk for message in branch],
        "messages": [
            {
                "id": message.pk,
                "parent_id": message.parent_id,
                "role": message.role,
                "content": message.content,
                "reasoning": message.reasoning,
                "tool_calls": message.tool_calls,
                "tool_runs": message.tool_runs,
                "documents": documents.get(message.pk, []),
                "status": message.status,
                "finish_reason": message.finish_reason,
                "error": message.error,
                "model": message.model,
                "created_at": message.created_at.isoformat(),
            }
            for message in messages
        ],
    }
