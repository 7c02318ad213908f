"""GET /healthz: is the database answering, and does the channel layer carry a message?"""

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from chat.realtime.groups import channel_layer

logger = logging.getLogger(__name__)
TIMEOUT = 3.0


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def channel_layer_check() -> None:
    layer = channel_layer()
    # A plain channel: on Redis, a process-specific one is read by the one blocking pop
    # this process's consumers share, and would wait behind an idle socket's.
    channel = f"health.{uuid.uuid4().hex}"
    await layer.send(channel, {"type": "health.ping"})
    await layer.receive(channel)


# A probe only reads; any other method is a mistake, answered 405 like every other view.
@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": sync_to_async(database_check)(), "channel_layer": channel_layer_check()}
    report = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, TIMEOUT)
            report[name] = "ok"
        except Exception as exc:
            logger.warning("health check %s failed: %s", name, type(exc).__name__)
            report[name] = "failing"
    healthy = all(state == "ok" for state in report.values())
    return JsonResponse(report, status=200 if healthy else 503)
