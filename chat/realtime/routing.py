from django.urls import path

from chat.realtime.consumer import ChatConsumer

# The chat socket's path; the page reads it from its config (chat/web/views.py).
SOCKET_PATH = "ws/chat/"

websocket_urlpatterns = [
    # Channels routes ASGI applications with Django's path(), which django-stubs types
    # for views only.
    path(SOCKET_PATH, ChatConsumer.as_asgi()),  # type: ignore[arg-type]
]
