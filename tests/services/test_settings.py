"""Per-conversation settings: checked with clear messages, stored on the conversation, and
sent upstream exactly as set, with nothing that is not set."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message
from chat.services.conversations.parameters import (
    SettingsInvalid,
    request_parameters,
    settings_clean,
)
from tests.websocket import connect, receive_until

EVERYTHING = {
    "system_prompt": "Answer in French.",
    "temperature": 0.3,
    "top_p": 0.9,
    "max_completion_tokens": 256,
    "reasoning_effort": "low",
    "presence_penalty": -1.5,
    "frequency_penalty": 2,
    "seed": 42,
    "stop": ["END", "\n\n"],
    "json_mode": True,
    "tools": [],
}
UPSTREAM_EVERYTHING = {
    "temperature": 0.3,
    "top_p": 0.9,
    "max_completion_tokens": 256,
    "reasoning_effort": "low",
    "presence_penalty": -1.5,
    "frequency_penalty": 2,
    "seed": 42,
    "stop": ["END", "\n\n"],
    "response_format": {"type": "json_object"},
}
SETTABLE = set(UPSTREAM_EVERYTHING)


def _errors(data) -> dict[str, str]:
    with pytest.raises(SettingsInvalid) as caught:
        settings_clean(data)
    return caught.value.errors


# --- checking ---------------------------------------------------------------------------


def test_every_setting_is_kept_as_given_and_spelled_for_the_request():
    cleaned = settings_clean(EVERYTHING)

    assert cleaned.system_prompt == "Answer in French."
    assert request_parameters(cleaned.parameters) == UPSTREAM_EVERYTHING


def test_blank_fields_are_not_set_at_all():
    cleaned = settings_clean(
        {
            "system_prompt": "",
            "temperature": "",
            "top_p": None,
            "seed": " ",
            "reasoning_effort": "",
            "stop": [],
            "json_mode": False,
        }
    )
    assert cleaned.parameters == {}


def test_numbers_typed_into_the_page_arrive_as_text_and_are_read_as_numbers():
    cleaned = settings_clean({"temperature": "0.7", "max_completion_tokens": "100", "seed": "-3"})
    assert cleaned.parameters == {"temperature": 0.7, "max_completion_tokens": 100, "seed": -3}


def test_a_decimal_comma_as_german_or_french_keyboards_type_it_is_read_too():
    cleaned = settings_clean({"temperature": "0,7", "top_p": "1"})
    assert cleaned.parameters == {"temperature": 0.7, "top_p": 1.0}
    with pytest.raises(SettingsInvalid):
        settings_clean({"temperature": "1,000,5"})


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"temperature": 2.5}, "temperature", "Temperature must be a number from 0 to 2."),
        ({"temperature": "warm"}, "temperature", "Temperature must be a number from 0 to 2."),
        ({"temperature": True}, "temperature", "Temperature must be a number from 0 to 2."),
        ({"top_p": -0.1}, "top_p", "Top P must be a number from 0 to 1."),
        (
            {"presence_penalty": 3},
            "presence_penalty",
            "Presence penalty must be a number from -2 to 2.",
        ),
        (
            {"frequency_penalty": "-2.01"},
            "frequency_penalty",
            "Frequency penalty must be a number from -2 to 2.",
        ),
        (
            {"max_completion_tokens": 0},
            "max_completion_tokens",
            "Max completion tokens must be a whole number from 1 to 1,000,000.",
        ),
        (
            {"max_completion_tokens": "1.5"},
            "max_completion_tokens",
            "Max completion tokens must be a whole number from 1 to 1,000,000.",
        ),
        ({"seed": "abc"}, "seed", "Seed must be a whole number from"),
        (
            {"reasoning_effort": "max"},
            "reasoning_effort",
            "Reasoning effort must be one of none, minimal, low, medium, high, xhigh",
        ),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "At most 4 stop sequences, not 5."),
        ({"stop": [1]}, "stop", "Stop sequences must be a list of texts."),
        ({"json_mode": "yes"}, "json_mode", "JSON output must be on or off."),
        ({"n": 3}, "n", "Unknown setting 'n'."),
    ],
)
def test_each_bad_value_gets_a_clear_message(data, field, message):
    assert _errors(data)[field].startswith(message)


def test_a_system_prompt_over_the_message_limit_is_refused(settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 10
    assert "the limit is 10" in _errors({"system_prompt": "x" * 11})["system_prompt"]


# --- over HTTP ----------------------------------------------------------------------------


def _post(client: Client, url: str, data, **extra):
    return client.post(url, data=json.dumps(data), content_type="application/json", **extra)


@pytest.fixture
def alices_conversation(alice) -> Conversation:
    return Conversation.objects.create(user=alice, title="Settings")


@pytest.mark.django_db
def test_alice_saves_her_conversations_settings(alice, alices_conversation):
    client = Client()
    client.force_login(alice)

    response = _post(
        client, reverse("chat:conversation_settings", args=[alices_conversation.pk]), EVERYTHING
    )

    assert response.status_code == 200
    assert response.json() == {"ok": True, "settings": EVERYTHING}
    alices_conversation.refresh_from_db()
    assert alices_conversation.system_prompt == "Answer in French."
    assert request_parameters(alices_conversation.parameters) == UPSTREAM_EVERYTHING
    page = client.get(reverse("chat:conversation", args=[alices_conversation.pk]))
    assert page.context["chat_config"]["settings"] == EVERYTHING


@pytest.mark.django_db
def test_bad_settings_are_refused_with_messages_and_nothing_is_stored(alice, alices_conversation):
    client = Client()
    client.force_login(alice)
    url = reverse("chat:conversation_settings", args=[alices_conversation.pk])
    _post(client, url, {"temperature": 1})

    response = _post(client, url, {"temperature": 9, "top_p": 0.5})

    assert response.json() == {
        "ok": False,
        "errors": {"temperature": "Temperature must be a number from 0 to 2."},
    }
    alices_conversation.refresh_from_db()
    assert alices_conversation.parameters == {"temperature": 1}


@pytest.mark.django_db
def test_bob_cannot_change_alices_settings(bob, alices_conversation):
    client = Client()
    client.force_login(bob)
    url = reverse("chat:conversation_settings", args=[alices_conversation.pk])

    response = _post(client, url, {"system_prompt": "Obey Bob."})

    assert response.status_code == 404
    alices_conversation.refresh_from_db()
    assert alices_conversation.system_prompt == ""


@pytest.mark.django_db
def test_saving_settings_needs_the_csrf_token(alice, alices_conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    url = reverse("chat:conversation_settings", args=[alices_conversation.pk])

    refused = _post(client, url, {"temperature": 1})
    token = client.get(reverse("chat:conversation", args=[alices_conversation.pk])).context[
        "chat_config"
    ]["csrfToken"]
    accepted = _post(client, url, {"temperature": 1}, HTTP_X_CSRFTOKEN=token)

    assert (refused.status_code, accepted.status_code) == (403, 200)


@pytest.mark.django_db
def test_settings_for_a_conversation_not_started_yet_are_only_checked(alice):
    client = Client()
    client.force_login(alice)

    good = _post(client, reverse("chat:settings_check"), {"seed": "7"})
    bad = _post(client, reverse("chat:settings_check"), {"seed": "seven"})

    assert good.json() == {"ok": True, "settings": {"system_prompt": "", "seed": 7, "tools": []}}
    assert bad.json()["ok"] is False
    assert Conversation.objects.count() == 0


# --- what goes upstream -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_unset_parameters_are_absent_from_the_request(upstream, alice):
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi"})
    await receive_until(ws, "done")
    await ws.disconnect()

    body = upstream.log()[0]["body"]
    assert SETTABLE.isdisjoint(body)
    assert body["messages"] == [{"role": "user", "content": "hi"}]


@pytest.mark.django_db(transaction=True)
async def test_settings_chosen_before_the_first_message_apply_to_it(upstream, alice):
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi", "settings": EVERYTHING})
    frames = await receive_until(ws, "done")
    await ws.disconnect()

    body = upstream.log()[0]["body"]
    assert {k: v for k, v in body.items() if k in SETTABLE} == UPSTREAM_EVERYTHING
    assert body["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "hi"},
    ]
    conversation = await Conversation.objects.aget(pk=frames[0]["conversation"]["id"])
    assert conversation.system_prompt == "Answer in French."


@pytest.mark.django_db(transaction=True)
async def test_saved_settings_go_with_every_later_request_exactly(upstream, alice):
    conversation = await Conversation.objects.acreate(
        user=alice, parameters={"temperature": 0.0, "stop": ["x"]}
    )
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "conversation_id": conversation.pk, "content": "hi"})
    await receive_until(ws, "done")
    await ws.disconnect()

    body = upstream.log()[0]["body"]
    assert {k: v for k, v in body.items() if k in SETTABLE} == {"temperature": 0.0, "stop": ["x"]}


@pytest.mark.django_db(transaction=True)
async def test_bad_settings_in_the_first_send_save_nothing_and_say_why(upstream, alice):
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hi", "settings": {"top_p": 5}})
    reply = await ws.receive_json_from()
    await ws.disconnect()

    assert reply == {
        "type": "error",
        "code": "invalid_settings",
        "message": "Top P must be a number from 0 to 1.",
    }
    assert await Message.objects.acount() == 0
    assert upstream.log() == []
