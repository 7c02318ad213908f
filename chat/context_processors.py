from typing import Any

from django.conf import settings
from django.http import HttpRequest

from chat.upstream.provider import default_provider


def site(request: HttpRequest) -> dict[str, Any]:
    return {"demo_provider": default_provider().is_demo, "signup_enabled": settings.SIGNUP_ENABLED}
