"""Projects: a user's named groups of conversations, each with instructions, parameters,
a default model and documents that its conversations share. Every lookup is scoped to
the owner: another user's project raises Project.DoesNotExist, as a missing one."""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from chat import texts
from chat.models import Conversation, Document, Project, User
from chat.selectors import conversation_get
from chat.services.conversations.parameters import SettingsInvalid, settings_clean

NAME_MAX_CHARS = 100
PROJECTS_PER_USER = 200


@dataclass
class ProjectFields:
    """A project as the person sets it, before it is checked."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # as the settings panel's
    provider: str = ""
    model: str = ""
    document_ids: list[int] = field(default_factory=list)


def project_get(*, user: User, project_id: int) -> Project:
    return Project.objects.get(pk=project_id, user=user)


def project_save(*, user: User, fields: ProjectFields, project_id: int | None = None) -> Project:
    """Make a project, or change one of the user's. Raises SettingsInvalid (one message
    per bad field; a document not in the user's library is one), Project.DoesNotExist."""
    project = project_get(user=user, project_id=project_id) if project_id else Project(user=user)
    errors: dict[str, str] = {}
    name = " ".join(fields.name.split())
    if not name:
        errors["name"] = gettext("Give the project a name.")
    elif len(name) > NAME_MAX_CHARS:
        errors["name"] = texts.NAME_TOO_LONG.format(
            length=texts.number(len(name)), limit=texts.number(NAME_MAX_CHARS)
        )
    try:
        cleaned = settings_clean({k: v for k, v in fields.settings.items() if k != "tools"})
    except SettingsInvalid as exc:
        errors.update(exc.errors)
    ids = list(dict.fromkeys(fields.document_ids))
    documents = list(Document.objects.defer("data").filter(user=user, pk__in=ids))
    if len(documents) != len(ids):
        errors["documents"] = gettext("A document is not in your library.")
    if not project.pk and Project.objects.filter(user=user).count() >= PROJECTS_PER_USER:
        errors["name"] = gettext("You have %(count)s projects: delete one first.") % {
            "count": texts.number(PROJECTS_PER_USER)
        }
    if errors:
        raise SettingsInvalid(errors)
    project.name = name
    project.system_prompt = cleaned.system_prompt
    project.parameters = cleaned.parameters or {}
    project.provider = fields.provider[:50]
    project.model = fields.model[:200]
    with transaction.atomic():
        project.save()
        project.documents.set(documents)
    return project


def project_delete(*, user: User, project_id: int) -> None:
    """Delete the user's project; its conversations stay, out of any project."""
    project_get(user=user, project_id=project_id).delete()


def conversation_move(*, user: User, conversation_id: int, project_id: int | None) -> None:
    """Put the user's conversation in one of their projects, or in none. Raises
    Conversation.DoesNotExist or Project.DoesNotExist for another user's."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    project = project_get(user=user, project_id=project_id) if project_id else None
    # An update: the conversation keeps its place in the list.
    Conversation.objects.filter(pk=conversation.pk, user=user).update(project=project)


def project_documents(conversation: Conversation) -> list[Document]:
    """The documents of the conversation's project (none: no query)."""
    if conversation.project_id is None:
        return []
    return list(
        Document.objects.defer("data").filter(
            projects=conversation.project_id, user_id=conversation.user_id
        )
    )
