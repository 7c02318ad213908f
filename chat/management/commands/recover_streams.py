from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chat.services.messages import STALE_STREAM_AFTER, streams_interrupt_stale


class Command(BaseCommand):
    help = (
        "Mark answers left streaming by a process that died as interrupted. Run it before "
        "starting the server. With --all every streaming answer is marked: only for a site "
        "that runs a single server process, before that process starts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="not only the stale ones")

    def handle(self, *args: Any, **options: Any) -> None:
        count = streams_interrupt_stale(older_than=None if options["all"] else STALE_STREAM_AFTER)
        self.stdout.write(f"{count} answer(s) marked interrupted.")
