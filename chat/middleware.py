import logging
import time
import uuid
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

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
        user = getattr(request, "user", None)
        request_logger.info(
            "request id=%s method=%s path=%s status=%s ms=%.1f user=%s",
            request_id,
            request.method,
            request.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            user.pk if user is not None and user.is_authenticated else "-",
        )

    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            started, request_id = time.monotonic(), uuid.uuid4().hex[:16]
            response = await get_response(request)
            log(request, response, started, request_id)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        started, request_id = time.monotonic(), uuid.uuid4().hex[:16]
        response = get_response(request)
        log(request, response, started, request_id)
        return response

    return middleware
