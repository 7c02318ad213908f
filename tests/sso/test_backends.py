"""On an SSO-only site a password signs in the break-glass superuser only; everyone's
sessions still work."""

import pytest
from django.contrib.auth import authenticate

from chat.models import User
from chat.sso.backends import SuperuserPasswordBackend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sso_only(settings) -> None:
    settings.AUTHENTICATION_BACKENDS = ["chat.sso.backends.SuperuserPasswordBackend"]


def test_a_superuser_s_password_signs_in():
    User.objects.create_superuser("root", "root@example.org", "root-password-1")
    assert authenticate(username="root", password="root-password-1") is not None


def test_anyone_else_s_password_does_not():
    User.objects.create_user("ada", "ada@example.org", "ada-password-1")
    assert authenticate(username="ada", password="ada-password-1") is None


def test_a_session_of_someone_signed_in_by_their_provider_is_still_read():
    ada = User.objects.create_user("ada")
    assert SuperuserPasswordBackend().get_user(ada.pk) == ada
