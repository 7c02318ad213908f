"""Conversations imported from a ChatGPT data export or a chatsite JSON export: their
branches kept, the branch shown as it was; a bad or huge file is refused with the reason,
and nothing of it is saved."""

import io
import json
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message
from chat.selectors import branch_siblings, conversation_branch
from chat.services.conversations.importing import ImportRefused, conversations_import

pytestmark = pytest.mark.django_db


def _node(node_id, parent, children, role=None, text=None, hidden=False, kind="text"):
    message = None
    if role:
        message = {
            "id": node_id,
            "author": {"role": role},
            "content": {"content_type": kind, "parts": [text]},
            "metadata": {"is_visually_hidden_from_conversation": hidden, "model_slug": "gpt-4o"},
        }
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def chatgpt_conversation(title="Trip", current="a2") -> dict:
    """root → hidden system → "Where to?" → two answers ("Lisbon", "Porto"); under
    "Porto" a question and its answer, which the page showed last."""
    mapping = {
        "root": _node("root", None, ["sys"]),
        "sys": _node("sys", "root", ["q1"], "system", "You are ChatGPT", hidden=True),
        "q1": _node("q1", "sys", ["a1", "a1b"], "user", "Where to?"),
        "a1": _node("a1", "q1", [], "assistant", "Lisbon"),
        "a1b": _node("a1b", "q1", ["q2"], "assistant", "Porto"),
        "q2": _node("q2", "a1b", ["img", "a2"], "user", "Why **Porto**?"),
        "img": _node("img", "q2", [], "assistant", None, kind="multimodal_text"),
        "a2": _node("a2", "q2", [], "assistant", "Port wine."),
    }
    mapping["img"]["message"]["content"]["parts"] = [{"asset_pointer": "file-service://x"}]
    return {
        "title": title,
        "update_time": 1700000000.5,
        "mapping": mapping,
        "current_node": current,
    }


def _import(user, payload) -> object:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return conversations_import(user=user, file=io.BytesIO(data))


def _shown(conversation) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in conversation_branch(conversation=conversation)]


def test_a_chatgpt_export_keeps_its_branches_and_the_branch_shown(alice):
    result = _import(alice, [chatgpt_conversation(), chatgpt_conversation("Other", current="a1")])

    assert (result.conversations, result.messages) == (2, 10)
    trip = Conversation.objects.get(user=alice, title="Trip")
    assert _shown(trip) == [
        ("user", "Where to?"),
        ("assistant", "Porto"),
        ("user", "Why **Porto**?"),
        ("assistant", "Port wine."),
    ]
    branch = conversation_branch(conversation=trip)
    assert len(branch_siblings(conversation=trip, branch=branch)[branch[1].pk]) == 2
    assert trip.updated_at.year == 2023
    assert branch[-1].model == "gpt-4o"
    other = Conversation.objects.get(user=alice, title="Other")
    assert _shown(other) == [("user", "Where to?"), ("assistant", "Lisbon")]


def test_a_chatsite_export_comes_back_whole(alice, bob):
    _import(alice, [chatgpt_conversation()])
    trip = Conversation.objects.get(user=alice)
    trip.system_prompt = "Be brief."
    trip.save()
    client = Client()
    client.force_login(alice)
    exported = client.get(reverse("chat:export", args=[trip.pk, "json"])).content

    result = _import(bob, exported)

    copy = Conversation.objects.get(user=bob)
    assert (result.conversations, result.messages) == (1, 5)
    assert (copy.title, copy.system_prompt) == ("Trip", "Be brief.")
    assert _shown(copy) == _shown(trip)
    assert Message.objects.filter(conversation=copy).count() == 5


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"hello", "not JSON"),
        (b'[{"title": "cut', "cut short"),
        (b'[{"title": "x", "mapping": {}}, 7]', "Conversation 2: it is neither"),
        ([{"title": "x", "mapping": {"a": {"parent": None, "children": ["b"]}}}], "missing"),
        (
            [
                {
                    "mapping": {
                        "a": {"parent": None, "children": ["b"]},
                        "b": {"parent": "a", "children": ["a"]},
                    }
                }
            ],
            "loop",
        ),
        ([{"messages": [{"id": 2, "parent_id": 1, "role": "user", "content": "x"}]}], "before"),
        ([{"messages": [{"id": 1, "role": "user", "content": 5}]}], "not text"),
        (b"[" * 3000 + b"]" * 3000, "nests deeper than 32"),
        (b"[[" + b"1," * 600_000 + b"1]]", "more than 500,000 values"),
        ([{"mapping": {"a": {"parent": None, "children": [["b"]]}}}], "not ids"),
        ([{"messages": [{"id": [[1]], "role": "user", "content": "x"}]}], "has no id"),
        ([{"messages": [{"id": 1, "role": [[["user"]]], "content": "x"}]}, 5], "Conversation 3"),
        (b"\xff\xfe[", "not JSON"),
        (b'[{"title": "\xff"}]', "not valid JSON"),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_saved(alice, payload, reason):
    good = chatgpt_conversation()
    data = payload
    if isinstance(payload, list):
        data = [good, *payload]  # a good conversation first: it must not be saved either

    with pytest.raises(ImportRefused) as refused:
        _import(alice, data)

    assert reason in str(refused.value)
    assert Conversation.objects.count() == 0


def test_odd_but_readable_values_are_imported_within_their_columns(alice):
    conversation = chatgpt_conversation()
    conversation["mapping"]["a2"]["message"]["metadata"]["model_slug"] = "m" * 300
    conversation["mapping"]["q1"]["message"]["content"]["content_type"] = ["text"]
    conversation["update_time"] = 253402300000  # the year 9999
    conversation["mapping"]["a1"]["message"]["author"] = "assistant"  # not an object: left out

    _import(alice, [conversation])

    answer = Message.objects.get(content="Port wine.")
    assert answer.model == "m" * 200
    assert not Message.objects.filter(content="Where to?").exists()  # not text: left out
    assert not Message.objects.filter(content="Lisbon").exists()
    assert Conversation.objects.get().updated_at.year == datetime.now().year


def test_limits_on_size_conversations_and_messages(alice, settings):
    settings.CHAT_IMPORT_MAX_CONVERSATIONS = 1
    with pytest.raises(ImportRefused, match="more than 1 conversations"):
        _import(alice, [chatgpt_conversation(), chatgpt_conversation()])

    settings.CHAT_IMPORT_MAX_MESSAGES = 4
    with pytest.raises(ImportRefused, match="more than 4 messages"):
        _import(alice, [chatgpt_conversation()])

    settings.CHAT_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportRefused, match="at most 100"):
        _import(alice, [chatgpt_conversation()])
    assert Conversation.objects.count() == 0


def test_the_page_imports_a_file_and_says_what_it_did(alice):
    client = Client()
    client.force_login(alice)
    upload = io.BytesIO(json.dumps([chatgpt_conversation()]).encode())
    upload.name = "conversations.json"

    done = client.post(reverse("chat:data_import"), {"file": upload}, follow=True)
    bad = io.BytesIO(b"nope")
    bad.name = "x.json"
    refused = client.post(reverse("chat:data_import"), {"file": bad})

    assert "Imported 1 conversations (5 messages)." in done.content.decode()
    assert refused.status_code == 400
    assert "Nothing was imported. The file is not JSON" in refused.content.decode()
    assert Conversation.objects.filter(user=alice).count() == 1
