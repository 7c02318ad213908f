from typing import Any

from django.core.management.base import BaseCommand

from chat.services.conversations.retention import conversations_expire


class Command(BaseCommand):
    help = (
        "Delete the conversations nobody has written in for longer than the site keeps them "
        "(Site settings, or a member's groups: the longest of theirs), with their messages "
        "and images; the usage ledger stays. Schedule it daily (cron, a systemd timer)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        expired = conversations_expire()
        self.stdout.write(
            f"{expired.conversations} conversations deleted ({expired.messages} messages)."
        )
