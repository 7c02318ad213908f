"""Presets: a user saves settings and a model under a name and sees only their own and
those the admin published for everyone or for a group of theirs; bad settings say why."""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from chat.models import Preset
from chat.services.conversations.presets import presets_for

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _save(client: Client, **data):
    return client.post(reverse("chat:presets"), json.dumps(data), content_type="application/json")


def _names(user) -> list[str]:
    return [p.name for p in presets_for(user=user)]


def test_a_user_saves_a_preset_and_finds_it_on_the_chat_page(alice):
    client = _client(alice)

    reply = _save(
        client,
        name="  Terse   translator ",
        settings={"system_prompt": "Translate tersely.", "temperature": "0.2", "tools": [1]},
        provider="",
        model="chatsite-demo-large",
    ).json()

    assert reply["ok"] is True
    assert reply["preset"]["name"] == "Terse translator"
    assert reply["preset"]["settings"] == {
        "system_prompt": "Translate tersely.",
        "temperature": 0.2,
    }
    assert reply["preset"]["model"] == {"provider": "", "model": "chatsite-demo-large"}
    page = client.get(reverse("chat:home"))
    assert [p["name"] for p in page.context["chat_config"]["presets"]] == ["Terse translator"]


def test_bad_settings_or_no_name_are_refused_with_the_reasons(alice):
    reply = _save(_client(alice), name=" ", settings={"temperature": "hot"}).json()

    assert reply["ok"] is False
    assert set(reply["errors"]) == {"name", "temperature"}
    assert Preset.objects.count() == 0


def test_published_presets_reach_everyone_or_their_groups_members_only(alice, bob):
    research = Group.objects.create(name="research")
    research.user_set.add(alice)
    Preset.objects.create(name="For all", everyone=True)
    for_research = Preset.objects.create(name="For research")
    for_research.groups.add(research)
    Preset.objects.create(name="Unpublished draft")
    Preset.objects.create(user=bob, name="Bob's own")

    assert _names(alice) == ["For all", "For research"]
    assert _names(bob) == ["Bob's own", "For all"]


def test_only_its_owner_deletes_a_preset_and_nobody_deletes_a_published_one(alice, bob):
    own = Preset.objects.create(user=alice, name="Mine")
    published = Preset.objects.create(name="Site's", everyone=True)
    missing = published.pk + 100

    def delete(client, preset_id):
        return client.post(reverse("chat:preset_delete", args=[preset_id]))

    by_bob = delete(_client(bob), own.pk)
    of_the_site = delete(_client(alice), published.pk)
    nobodys = delete(_client(alice), missing)
    by_alice = delete(_client(alice), own.pk)

    assert by_bob.status_code == of_the_site.status_code == nobodys.status_code == 404
    assert by_bob.content == nobodys.content
    assert by_alice.json() == {"ok": True}
    assert list(Preset.objects.values_list("name", flat=True)) == ["Site's"]


def test_the_admin_publishes_a_preset_whose_settings_are_checked(admin_client):
    url = reverse("admin:chat_preset_add")
    form = {"name": "Careful", "system_prompt": "Be careful.", "everyone": "on", "model": ""}

    bad = admin_client.post(url, {**form, "parameters": '{"temperature": 9}'})
    good = admin_client.post(url, {**form, "parameters": '{"temperature": 0.5}'})

    assert bad.status_code == 200
    assert "Temperature must be a number from 0 to 2." in bad.content.decode()
    assert good.status_code == 302
    preset = Preset.objects.get()
    assert (preset.user, preset.parameters, preset.everyone) == (None, {"temperature": 0.5}, True)
