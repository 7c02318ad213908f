from typing import Any

from django.conf import settings
from django.http import HttpRequest

from chat.models import SiteSettings
from chat.services.accounts import signup_mode
from chat.upstream.provider import default_provider


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "demo_provider": default_provider().is_demo,
        # Invite-only sign-up starts from an invitation link, not from the login page.
        "signup_enabled": signup_mode() == SiteSettings.SignupMode.OPEN,
        "password_reset_enabled": settings.PASSWORD_RESET_ENABLED,
    }
