"""The language of a websocket: the one its page was shown in, so that what the socket
says (refusals, why an answer ended) reads like the page around it.

LocaleMiddleware does this for HTTP requests; a websocket's scope has the same cookie and
headers, picked the same way: the language chosen with the switch (its cookie), else the
browser's Accept-Language, else the site's LANGUAGE_CODE.
"""

from collections.abc import Iterable, Mapping
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def _supported(code: str) -> str | None:
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope: Mapping[str, Any]) -> str:
    # AuthMiddlewareStack's CookieMiddleware fills scope["cookies"]; without it (a bare
    # consumer in a test) the Cookie header is read here.
    cookies = scope.get("cookies")
    if cookies is not None:
        return str(cookies.get(settings.LANGUAGE_COOKIE_NAME, ""))
    parsed = SimpleCookie(_header(scope.get("headers", ()), b"cookie"))
    morsel = parsed.get(settings.LANGUAGE_COOKIE_NAME)
    return morsel.value if morsel is not None else ""


def scope_language(scope: Mapping[str, Any]) -> str:
    """The supported language code a websocket's messages are written in."""
    chosen = _supported(_cookie(scope)) if _cookie(scope) else None
    if chosen is not None:
        return chosen
    accepted = _header(scope.get("headers", ()), b"accept-language")
    for code, _quality in parse_accept_lang_header(accepted):
        if code == "*":
            break
        found = _supported(code)
        if found is not None:
            return found
    return _supported(settings.LANGUAGE_CODE) or settings.LANGUAGE_CODE
