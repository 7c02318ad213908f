"""The channel layer of a single-process site: Channels' in-memory layer, made cheap.

The base class sweeps every channel and group for expired entries on each receive and
group_send, starts a task per group member and deep-copies every message: with 100
streams that was a tenth of the server's CPU (docs/benchmarks.md). Here the sweep runs
at most once a second and group_send puts straight into the members' queues. Messages
are copied one level deep: chatsite's handlers never change what they receive.
Several processes use channels-redis instead.
"""

import asyncio
import contextlib
import time
from typing import Any

from channels.layers import InMemoryChannelLayer


class InProcessChannelLayer(InMemoryChannelLayer):
    SWEEP_EVERY = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            super()._clean_expired()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        expires = time.time() + self.expiry
        for channel in list(self.groups.get(group, ())):
            queue = self.channels.get(channel)
            if queue is None:
                queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
            # As in the base class, a full channel misses group messages.
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait((expires, dict(message)))
