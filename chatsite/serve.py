"""chatsite's server: python -m chatsite.serve [daphne's arguments]

daphne, with two things added:
- uvloop as its event loop: daphne makes its loop when it is imported, so uvloop's policy
  is installed first, and Twisted's asyncio reactor runs on it unchanged;
- on SIGTERM (or Ctrl-C), answers being written are stopped and saved as interrupted,
  with their partial text and usage, before the process exits: Twisted waits for the
  Deferred a "before shutdown" trigger returns.
"""

import asyncio

import uvloop
from twisted.internet.defer import Deferred

SHUTDOWN_GRACE = 10.0  # seconds the answers get to save themselves


def main() -> None:
    uvloop.install()
    import daphne.cli
    from daphne.cli import CommandLineInterface  # imports daphne.server: the reactor

    daphne.cli.AccessLogGenerator = _redacted_access_log()
    from twisted.internet import reactor

    # Twisted declares its interfaces' methods without self (zope.interface): without the
    # mypy-zope plugin, mypy takes "before" for self and each argument for the one before.
    reactor.addSystemEventTrigger("before", "shutdown", _interrupt_generations)  # type: ignore[arg-type]
    CommandLineInterface.entrypoint()


def _redacted_access_log() -> type:
    from daphne.access import AccessLogGenerator

    from chat.redaction import share_tokens_redacted

    class RedactedAccessLog(AccessLogGenerator):
        """daphne's access log, without share links' tokens."""

        def write_entry(
            self, host: str, date: object, request: str, *args: object, **kwargs: object
        ) -> None:
            super().write_entry(host, date, share_tokens_redacted(request), *args, **kwargs)

    return RedactedAccessLog


def _interrupt_generations() -> "Deferred[None]":
    from chat.realtime.generation import generations_interrupt

    return Deferred.fromFuture(asyncio.ensure_future(generations_interrupt(SHUTDOWN_GRACE)))


if __name__ == "__main__":
    main()
