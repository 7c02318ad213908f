"""Reads: the lean history a follow-up reads says what the ORM's rows say."""

from chat.models import Message
from chat.selectors import branch_from, conversation_history, conversation_messages_by_id
from chat.services.answers.sending import message_send
from chat.services.conversations.attachments import attachment_create
from tests.services.test_attachments import image_bytes

RUN = {"id": "call_1", "name": "add", "arguments": "{}", "state": "done", "content_at": 0}


def _conversation_with_everything(user) -> int:
    """A question with an image, an answer with a tool run, a follow-up, and a second
    version of the first answer beside it."""
    image = attachment_create(user=user, data=image_bytes())
    first = message_send(user=user, conversation_id=None, content="é", attachment_ids=[image.pk])
    Message.objects.filter(pk=first.assistant_message.pk).update(
        status="complete", content="a\nb", tool_runs=[RUN]
    )
    conversation_id = first.conversation.pk
    second = message_send(user=user, conversation_id=conversation_id, content="two")
    Message.objects.filter(pk=second.assistant_message.pk).update(status="error")
    Message.objects.create(
        conversation_id=conversation_id, parent=first.user_message, role="assistant"
    )
    return conversation_id


def test_the_history_says_what_the_orm_reads_of_every_message_in_the_same_order(alice):
    conversation_id = _conversation_with_everything(alice)
    conversation = alice.conversations.get(pk=conversation_id)

    history = conversation_history(conversation_id=conversation_id)
    rows = conversation_messages_by_id(conversation=conversation)

    assert list(history) == list(rows)
    for pk, row in rows.items():
        lean = history[pk]
        assert (lean.parent_id, lean.role, lean.content, lean.status) == (
            row.parent_id,
            row.role,
            row.content,
            row.status,
        )
        assert lean.tool_runs == row.tool_runs
        assert lean.has_attachments == row.has_attachments
    assert [m.has_attachments for m in history.values()] == [True, False, False, False, False]
    assert [m.tool_runs for m in history.values() if m.content == "a\nb"] == [[RUN]]


def test_the_history_holds_only_its_own_conversation(alice, bob):
    mine = _conversation_with_everything(alice)
    _conversation_with_everything(bob)

    history = conversation_history(conversation_id=mine)

    assert set(history) == set(
        Message.objects.filter(conversation_id=mine).values_list("pk", flat=True)
    )


def test_a_branch_from_the_history_ends_at_the_newest_message_when_no_leaf_is_known(alice):
    conversation_id = _conversation_with_everything(alice)
    history = conversation_history(conversation_id=conversation_id)
    newest = Message.objects.filter(conversation_id=conversation_id).latest("created_at", "id")

    branch = branch_from(history, None)

    assert branch[-1].pk == newest.pk
    assert [m.role for m in branch] == ["user", "assistant"]
