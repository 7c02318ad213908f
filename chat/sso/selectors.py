"""What the login page shows of single sign-on."""

from dataclasses import dataclass

from allauth.socialaccount.adapter import get_adapter
from django.http import HttpRequest
from django.urls import reverse

from chat.sso.providers import OIDC


@dataclass(frozen=True)
class SignInButton:
    name: str
    url: str  # POST here to start the sign-in


def sign_in_buttons(request: HttpRequest) -> list[SignInButton]:
    apps = get_adapter(request).list_apps(request, provider=OIDC)
    return [
        SignInButton(
            name=app.name or app.provider_id,
            url=reverse("openid_connect_login", kwargs={"provider_id": app.provider_id}),
        )
        for app in apps
        if not app.settings.get("hidden")
    ]
