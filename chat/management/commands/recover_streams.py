import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from chat.models import Message
from chat.services.answers.heartbeat import HEARTBEAT_INTERVAL, STALE_STREAM_AFTER
from chat.services.answers.interruptions import streams_interrupt_stale
from chat.services.api.calls import api_calls_interrupt_stale


class Command(BaseCommand):
    help = (
        "Mark answers left streaming by a process that died as interrupted, each with an "
        "estimated usage row. Run it with --wait before starting a server process: answers "
        "touched within STALE_STREAM_AFTER (6 s) may belong to a live process, so it waits "
        "that long (and a heartbeat) when there are any, then marks those not touched "
        "since: the answers of a process that just crashed, never those of live ones. "
        "Without --wait only the answers stale now are marked. With --all every streaming "
        "answer is marked at once: only for a site that runs a single server process, "
        "before it starts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="not only the stale ones")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="when answers were touched recently, wait until those of dead processes "
            "are stale and mark them too (at start-up after a crash)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"]:
            count = streams_interrupt_stale(older_than=None)
            calls = api_calls_interrupt_stale(older_than=None)
        else:
            count = streams_interrupt_stale()
            if options["wait"] and self._recent_streams():
                # A process that crashed a moment ago left answers that look alive: after
                # this wait, any answer not touched since now is provably its.
                wait = STALE_STREAM_AFTER.total_seconds() + HEARTBEAT_INTERVAL
                self.stdout.write(f"Waiting {wait:.1f} s for answers touched recently.")
                time.sleep(wait)
                count += streams_interrupt_stale()
            calls = api_calls_interrupt_stale()
        self.stdout.write(f"{count} answer(s) marked interrupted.")
        if calls:
            self.stdout.write(f"{calls} API call(s) left running by a dead process closed.")

    @staticmethod
    def _recent_streams() -> bool:
        since = timezone.now() - STALE_STREAM_AFTER
        return Message.objects.filter(
            status=Message.Status.STREAMING, updated_at__gte=since
        ).exists()
