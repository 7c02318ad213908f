"""ASGI entry point: HTTP goes to Django, websockets through auth to chat's routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chat.realtime.routing import websocket_router  # noqa: E402
from chat.web.middleware import DatabaseUnavailableWebsocket  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            DatabaseUnavailableWebsocket(AuthMiddlewareStack(websocket_router))
        ),
    }
)
