from channels.routing import URLRouter
from django.urls import path

from chat.realtime.consumer import ChatConsumer
from chat.realtime.protocol import SOCKET_PATH

# Channels routes ASGI applications with Django's path(), which django-stubs types for
# views only, and types-channels wants its own pattern type in the router.
websocket_router = URLRouter(
    [path(SOCKET_PATH, ChatConsumer.as_asgi())]  # type: ignore[arg-type, list-item]
)
