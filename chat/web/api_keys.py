"""The user's own API keys page (/settings/api-keys/): make one (its secret shown once),
see them, revoke one. Another user's key id answers like a missing one."""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from chat.models import ApiKey
from chat.services.api.access import ApiAccessOff, api_access_check
from chat.services.api.keys import ApiKeyRefused, api_key_create, api_key_revoke
from chat.web.authenticated import AuthenticatedHttpRequest

EXPIRY_CHOICES = [
    ("", _("never")),
    ("7", _("in 7 days")),
    ("30", _("in 30 days")),
    ("90", _("in 90 days")),
    ("365", _("in a year")),
]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("To tell this key from your others.")
    )
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label=_("Expires"))
    models = forms.CharField(
        required=False,
        label=_("Only these models"),
        help_text=_("Model ids as GET /v1/models lists them, comma-separated; empty: all yours."),
    )


def _page(request: AuthenticatedHttpRequest, form: ApiKeyForm, **extra: object) -> HttpResponse:
    try:
        api_access_check(request.user)
        api_off = ""
    except ApiAccessOff as exc:
        api_off = str(exc)
    keys = ApiKey.objects.filter(user=request.user)
    response = render(
        request,
        "chat/api_keys.html",
        {
            "form": form,
            "keys": keys,
            "api_off": api_off,
            "base_url": request.build_absolute_uri("/v1"),
            "now": timezone.now(),
            **extra,
        },
    )
    response["Cache-Control"] = "no-store"  # the page may carry a new key's secret
    return response


@require_http_methods(["GET", "POST"])
@login_required
def api_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in"]
        try:
            new = api_key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + datetime.timedelta(days=int(days)) if days else None,
                allowed_models=form.cleaned_data["models"].split(","),
            )
        except ApiKeyRefused as exc:
            form.add_error(None, str(exc))
        else:
            # Shown on this answer only: never stored, never shown again.
            return _page(request, ApiKeyForm(), new_key=new.key, new_secret=new.secret)
    return _page(request, form)


@require_POST
@login_required
def api_key_revoke_view(request: AuthenticatedHttpRequest, key_id: int) -> HttpResponse:
    try:
        api_key_revoke(user=request.user, key_id=key_id)
    except ApiKey.DoesNotExist:
        raise Http404(_("No such key.")) from None
    return redirect("chat:api_keys")
