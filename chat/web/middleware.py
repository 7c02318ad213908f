import logging
import time
import uuid
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

logger = logging.getLogger(__name__)

# "Try Again Later": the page's socket reconnects after its usual back-off.
CLOSE_TRY_AGAIN_LATER = 1013

# No inline script anywhere in chatsite's own pages: config travels in json_script blocks.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Sets a strict CSP on chatsite's pages; the Django admin keeps its own behaviour."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


request_logger = logging.getLogger("chat.requests")


@sync_and_async_middleware
def request_log_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[..., Any]:
    """One line per request: an id (also sent back as X-Request-ID), method, path, status,
    time and user id. No query string, body or cookie: they can hold what is not ours to
    log."""

    def log(request: HttpRequest, response: HttpResponse, started: float, request_id: str) -> None:
        response.headers["X-Request-ID"] = request_id
        request_logger.info(
            "request id=%s method=%s path=%s status=%s ms=%.1f user=%s",
            request_id,
            request.method,
            request.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            _user_id(request),
        )

    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            started, request_id = time.monotonic(), uuid.uuid4().hex[:16]
            response: HttpResponse = await get_response(request)
            log(request, response, started, request_id)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        started, request_id = time.monotonic(), uuid.uuid4().hex[:16]
        response: HttpResponse = get_response(request)
        log(request, response, started, request_id)
        return response

    return middleware


def _user_id(request: HttpRequest) -> object:
    """The signed-in user's id, or "-"; also "-" when the database that knows it is down
    (the page then was the 503 of chat.web.error_pages)."""
    user = getattr(request, "user", None)
    try:
        return user.pk if user is not None and user.is_authenticated else "-"
    except DatabaseError:
        return "-"


class DatabaseUnavailableWebsocket:
    """ASGI middleware in front of the websocket's authentication, which reads the session
    and the user from the database: while the database is down, the socket is accepted
    and closed at once with 1013 (try again later) instead of failing the handshake with
    an HTTP 500. The page reconnects by itself."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        accepted = False

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept":
                accepted = True
            await send(message)

        try:
            await self.inner(scope, receive, watched_send)
        except DatabaseError as exc:
            if accepted:
                raise  # the consumer's own: an open socket is not this middleware's
            logger.warning("websocket refused while the database is unavailable: %s", exc)
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
