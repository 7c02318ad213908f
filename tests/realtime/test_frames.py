"""The server's frames: an answer's final state is described once (AnswerOutcome), and the
final save, the `done` frame and the branch frame all carry it whole."""

import json
import uuid
from typing import get_type_hints

import pytest

from chat.models import Conversation, Message
from chat.realtime.frames import (
    OutcomeFields,
    branch_frame,
    done_frame_from_message,
    frame_texts,
    snapshot_frame,
)
from chat.services.answers.outcome import AnswerOutcome
from chat.services.answers.saving import GenerationResult, assistant_message_finalize
from chat.services.usage.ledger import UsageCounts

OUTCOME = AnswerOutcome(
    status=Message.Status.INCOMPLETE,
    content="Half an answer",
    reasoning="Thinking it over",
    reasoning_ms=1200,
    tool_calls=[{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    finish_reason="length",
    error="The provider ended the answer before it was finished.",
)


@pytest.fixture
def answer(alice) -> Message:
    conversation = Conversation.objects.create(user=alice)
    question = conversation.messages.create(role=Message.Role.USER, content="Ask")
    answer = conversation.messages.create(
        role=Message.Role.ASSISTANT, parent=question, status=Message.Status.STREAMING
    )
    assistant_message_finalize(
        request=None,
        message_id=answer.pk,
        request_id=uuid.uuid4(),
        result=GenerationResult(OUTCOME, provider="p", model="m", usage=UsageCounts(3, 4)),
    )
    return Message.objects.get(pk=answer.pk)


@pytest.mark.django_db
def test_the_final_save_writes_every_field_of_the_outcome(answer):
    assert AnswerOutcome.of(answer) == OUTCOME


@pytest.mark.django_db
def test_the_done_frame_and_the_branch_frame_show_the_saved_outcome_with_the_same_fields(answer):
    done = done_frame_from_message(answer, None)
    branch = branch_frame(conversation_id=answer.conversation_id, branch=[answer], siblings={})
    (shown,) = branch["messages"]
    for name in get_type_hints(OutcomeFields):
        assert done[name] == shown[name] == getattr(OUTCOME, name), name


@pytest.mark.parametrize("character", ["a", "中", "😀"])
def test_a_long_frame_goes_in_parts_each_under_a_mebibyte_in_utf_8(character):
    content = character * 600_000
    frame = snapshot_frame(message_id=1, seq=1, content=content, reasoning="", tools=[])

    texts = frame_texts(frame)

    assert len(texts) > 1
    assert max(len(text.encode()) for text in texts) <= 1024 * 1024
    whole = "".join(json.loads(text)["data"] for text in texts)
    assert json.loads(whole)["content"] == content
