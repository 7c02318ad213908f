"""The request of a view that only signed-in users reach."""

from django.http import HttpRequest

from chat.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """What login_required (or the admin's staff check) lets through: its user signed in.

    An annotation only, never made: Django builds every request as it always does. Without
    it a type checker reads `request.user` as User | AnonymousUser, which no service takes.
    """

    user: User
