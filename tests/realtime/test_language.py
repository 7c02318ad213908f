"""The websocket speaks its page's language: the switch's cookie, else the browser's.

No German catalogue of chatsite's own exists before the translators' work, so the texts
checked here are ones Django itself translates ("This field is required."): what is
tested is which language is active where a text is made, not the translation.
"""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from chat import texts
from chat.realtime.frames import shown_frame
from chat.realtime.language import scope_language
from chatsite.asgi import application
from tests.conftest import session_cookie

REQUIRED = "This field is required."
REQUIRED_DE = "Dieses Feld ist zwingend erforderlich."
REQUIRED_FR = "Ce champ est obligatoire."


def _scope(cookie: str = "", accept: str = "", *, parsed: bool = False) -> dict[str, object]:
    headers = []
    if accept:
        headers.append((b"accept-language", accept.encode()))
    if cookie and not parsed:
        headers.append((b"cookie", f"sessionid=x; django_language={cookie}".encode()))
    scope: dict[str, object] = {"type": "websocket", "headers": headers}
    if parsed:
        scope["cookies"] = {"django_language": cookie} if cookie else {}
    return scope


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        ("", "", "en"),
        ("", "de-DE,de;q=0.9,en;q=0.8", "de"),
        ("", "pt-BR,fr;q=0.8", "fr"),  # the first language the site has
        ("", "zh-CN,zh;q=0.9", "zh-hans"),
        ("", "es-419", "es"),
        ("fr", "de", "fr"),  # the switch wins over the browser
        ("xx", "de", "de"),  # an unknown cookie is ignored
        ("", "pt, *", "en"),
    ],
)
def test_the_language_comes_from_the_cookie_then_the_browser(cookie, accept, expected):
    assert scope_language(_scope(cookie, accept)) == expected
    assert scope_language(_scope(cookie, accept, parsed=True)) == expected


@pytest.mark.django_db
async def test_a_database_thread_keeps_the_language_of_the_handler():
    # Services run in database_sync_to_async threads and build texts there (a limit's).
    with translation.override("de"):
        in_thread = await database_sync_to_async(gettext)(REQUIRED)
        in_plain_thread = await sync_to_async(gettext)(REQUIRED)
    assert in_thread == REQUIRED_DE
    assert in_plain_thread == REQUIRED_DE


def test_a_saved_english_text_is_shown_in_the_readers_language():
    saved = texts.ANSWER_INTERRUPTED
    frame = {"type": "done", "message_id": 1, "seq": 0, "error": saved, "tool_runs": []}
    with translation.override("de"):
        shown = shown_frame(frame)  # type: ignore[arg-type]
        german = translation.gettext(saved)
    assert german != saved  # the catalogue has it
    assert shown["error"] == german  # type: ignore[typeddict-item]
    assert frame["error"] == saved  # the frame other sockets get is not changed
    assert texts.shown("a provider's own words") == "a provider's own words"


def test_a_tools_output_that_is_some_pages_word_is_shown_as_the_model_saw_it():
    # "None" or "Error" from a tool is its output, not the Project menu's "None".
    with translation.override("de"):
        assert translation.gettext("Error") != "Error"
        assert texts.shown("Error") == "Error"
        assert texts.shown("None") == "None"
        assert texts.shown(REQUIRED) == REQUIRED


async def _socket(user, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie)(user)
    cookies = f"sessionid={cookie}"
    extra = [h for h in headers if h[0] != b"cookie"]
    for name, value in headers:
        if name == b"cookie":
            cookies += "; " + value.decode()
    ws = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", cookies.encode()),
            *extra,
        ],
    )
    connected, _ = await ws.connect()
    assert connected
    return ws


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"accept-language", b"de-DE,de;q=0.9")], REQUIRED_DE),
        ([(b"accept-language", b"de"), (b"cookie", b"django_language=fr")], REQUIRED_FR),
        ([], REQUIRED),
    ],
)
async def test_a_refusal_on_the_socket_is_in_the_sockets_language(
    alice, monkeypatch, headers, expected
):
    # The refusal's lazy text stands in for one of chatsite's, translated by Django.
    monkeypatch.setattr(texts, "CONVERSATION_NOT_FOUND", gettext_lazy(REQUIRED))
    ws = await _socket(alice, headers)
    await ws.send_json_to({"type": "subscribe", "conversation_id": 999})
    error = await ws.receive_json_from()
    await ws.disconnect()
    assert error["code"] == "not_found"
    assert error["message"] == expected
    assert translation.get_language() in ("en", None)  # nothing leaked out of the socket
