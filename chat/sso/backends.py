"""Passwords on an SSO-only site (SSO_ONLY): the break-glass superuser's only."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from chat.models import User


class SuperuserPasswordBackend(ModelBackend):
    """Django's password check, accepting superusers only. Sessions of everyone else
    (signed in by their provider) are still read by this backend's get_user."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or not user.is_superuser:
            return None
        return user
