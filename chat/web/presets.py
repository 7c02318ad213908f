"""A user's presets over HTTP: save the settings shown as one, delete one of their own.
Another user's preset, or a published one, answers exactly like a missing one."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from chat import texts
from chat.models import Preset
from chat.services.conversations.parameters import SettingsInvalid
from chat.services.conversations.presets import preset_delete, preset_save, preset_summary
from chat.web.authenticated import AuthenticatedHttpRequest
from chat.web.views import _json_body, _json_view, _missing_is_404

_preset_404 = _missing_is_404(Preset.DoesNotExist, texts.PRESET_NOT_FOUND)


@require_POST
@login_required
@_json_view
def preset_create_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    """{name, settings, provider, model}: answers {ok, preset} or {ok: false, errors}."""
    try:
        preset = preset_save(user=request.user, data=_json_body(request))
    except SettingsInvalid as exc:
        return JsonResponse({"ok": False, "errors": exc.errors})
    return JsonResponse({"ok": True, "preset": preset_summary(preset)})


@require_POST
@login_required
@_preset_404
def preset_delete_view(request: AuthenticatedHttpRequest, preset_id: int) -> JsonResponse:
    preset_delete(user=request.user, preset_id=preset_id)
    return JsonResponse({"ok": True})
