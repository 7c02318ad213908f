"""The error page: 503 "try again" while the database is unavailable, else Django's 500."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

RETRY_AFTER_SECONDS = 5


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500. The 503 page is rendered without the request (no context
    processor, session or user), so it needs no database."""
    if _database_unavailable(sys.exc_info()[1]):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)


def _database_unavailable(exc: BaseException | None) -> bool:
    """The database could not be reached (or its connection broke), here or as a cause."""
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
