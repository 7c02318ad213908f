"""Presets: settings to start a conversation from, under a name. A user keeps their own;
an admin publishes some for everyone or for groups (in the admin). Their settings are
checked as the settings panel's are (settings_clean)."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from chat import texts
from chat.models import Preset, User
from chat.services.conversations.parameters import SettingsInvalid, settings_clean

NAME_MAX_CHARS = 100
PRESETS_PER_USER = 200


def presets_for(*, user: User) -> QuerySet[Preset]:
    """The user's own presets and those published for everyone or a group of theirs."""
    published = Q(user__isnull=True) & (Q(everyone=True) | Q(groups__user=user))
    return Preset.objects.filter(Q(user=user) | published).distinct().order_by("name", "id")


def preset_save(*, user: User, data: Any) -> Preset:
    """A preset of the user's from {name, settings, provider, model}. Raises
    SettingsInvalid, one message per bad field."""
    if not isinstance(data, dict):
        raise SettingsInvalid({"preset": gettext("A preset must be a JSON object.")})
    name = " ".join(str(data.get("name") or "").split())
    errors = {}
    if not name:
        errors["name"] = gettext("Give the preset a name.")
    elif len(name) > NAME_MAX_CHARS:
        errors["name"] = texts.NAME_TOO_LONG.format(
            length=texts.number(len(name)), limit=texts.number(NAME_MAX_CHARS)
        )
    provider, model = data.get("provider") or "", data.get("model") or ""
    if not (isinstance(provider, str) and isinstance(model, str)) or len(model) > 200:
        errors["model"] = gettext("The model must be a model id.")
    try:
        cleaned = settings_clean(data.get("settings") or {})
    except SettingsInvalid as exc:
        errors.update(exc.errors)
    if Preset.objects.filter(user=user).count() >= PRESETS_PER_USER:
        errors["name"] = gettext("You have %(count)s presets: delete one first.") % {
            "count": texts.number(PRESETS_PER_USER)
        }
    if errors:
        raise SettingsInvalid(errors)
    return Preset.objects.create(
        user=user,
        name=name,
        system_prompt=cleaned.system_prompt,
        parameters=cleaned.parameters or {},
        provider=provider[:50],
        model=model,
    )


def preset_delete(*, user: User, preset_id: int) -> None:
    """Delete one of the user's own presets; Preset.DoesNotExist for any other (a
    published one included)."""
    Preset.objects.get(pk=preset_id, user=user).delete()


def preset_summary(preset: Preset) -> dict[str, Any]:
    """What the page needs to start from it."""
    return {
        "id": preset.pk,
        "name": preset.name,
        "settings": {"system_prompt": preset.system_prompt, **preset.parameters},
        "model": {"provider": preset.provider, "model": preset.model} if preset.model else None,
        "published": preset.user_id is None,
    }
