"""Branches: regenerate an answer, edit a question and send it again, flip between versions.

Nothing is overwritten. A regenerated answer is a new sibling of the old one under the
same question; an edited question is a new sibling of the old question with a new answer
under it. The conversation remembers the leaf of the branch the user selected.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from chat.models import Conversation, Message, User
from chat.selectors import branch_leaf_under, message_get, message_lineage
from chat.services.answers.requests import ChatRequest, chat_request_build
from chat.services.answers.sending import answer_start
from chat.services.conversations.attachments import attachments_copy
from chat.services.conversations.lifecycle import GenerationInProgress, conversation_ensure_idle
from chat.services.documents.library import documents_copy
from chat.services.providers import model_choice_check, provider_get
from chat.services.usage.limits import Allowance, limits_check
from chat.upstream.provider import Provider


class NotBranchable(Exception):
    """The message cannot be regenerated or edited (a wrong role)."""


@dataclass(frozen=True)
class BranchStarted:
    conversation: Conversation
    assistant_message: Message
    request: ChatRequest  # what to send upstream: exactly the new branch


def message_regenerate(*, user: User, message_id: int) -> BranchStarted:
    """A new streaming answer beside the given answer, to the same question.

    Raises Message.DoesNotExist for another user's message, NotBranchable for anything
    but an answer, and GenerationInProgress while the conversation streams; like a send,
    LimitReached, AccountInactive or ModelNotAllowed when the user may not ask now.
    """

    def start() -> BranchStarted:
        # In the transaction, under the lock on the user's row, as for a send.
        allowance = limits_check(user, lock=True)
        old = message_get(user=user, message_id=message_id)
        if old.role != Message.Role.ASSISTANT or old.parent_id is None:
            raise NotBranchable(gettext("Only an answer can be regenerated."))
        conversation = old.conversation
        provider = _model_check(conversation, allowance)
        conversation_ensure_idle(conversation)
        question = Message.objects.get(pk=old.parent_id)
        answer = answer_start(conversation=conversation, question=question)
        request = chat_request_build(message_id=answer.pk, provider=provider)
        return BranchStarted(conversation, answer, request)

    return _atomically(start)


def message_edit(*, user: User, message_id: int, content: str) -> BranchStarted:
    """A new version of the given question, beside it, with a new streaming answer.

    The question is saved before anything goes upstream, as every send is; the same
    refusals as message_regenerate.
    """

    def start() -> BranchStarted:
        # In the transaction, under the lock on the user's row, as for a send.
        allowance = limits_check(user, lock=True)
        old = message_get(user=user, message_id=message_id)
        if old.role != Message.Role.USER:
            raise NotBranchable(gettext("Only your own messages can be edited."))
        conversation = old.conversation
        provider = _model_check(conversation, allowance)
        conversation_ensure_idle(conversation)
        question = Message.objects.create(
            conversation=conversation, parent_id=old.parent_id, role=old.role, content=content
        )
        attachments_copy(source=old, target=question)
        documents_copy(source=old, target=question)
        answer = answer_start(conversation=conversation, question=question)
        request = chat_request_build(message_id=answer.pk, provider=provider)
        return BranchStarted(conversation, answer, request)

    return _atomically(start)


def branch_select(*, user: User, message_id: int) -> Conversation:
    """Select the branch through the given message, down to where it was last worked on."""
    message = message_get(user=user, message_id=message_id)
    conversation = message.conversation
    leaf = branch_leaf_under(message=message)
    with transaction.atomic():
        conversation.current_leaf = leaf
        conversation.save(update_fields=["current_leaf"])
        path = [m.pk for m in message_lineage(message=leaf)]
        Message.objects.filter(pk__in=path).update(selected_at=timezone.now())
    return conversation


def _model_check(conversation: Conversation, allowance: Allowance) -> Provider:
    """The conversation's provider, resolved once for the check and the request; its model
    may have been withdrawn since it was chosen."""
    provider = provider_get(conversation.provider)
    model_choice_check(provider=provider, model=conversation.model, allowance=allowance)
    return provider


def _atomically(start: Callable[[], BranchStarted]) -> BranchStarted:
    try:
        with transaction.atomic():
            return start()
    except IntegrityError as exc:
        # Two starts raced: the one-streaming-answer rule turned this one away.
        raise GenerationInProgress from exc
