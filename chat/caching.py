"""A value read on the hot path and kept per process for a few seconds.

The site settings and the price table are read for every answer and change rarely;
chat/signals.py forgets them in the process that changes their rows, and other processes
read them again when their copy expires."""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Expiring(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl: float) -> None:
        self.load = load
        self.ttl = ttl
        self._kept: tuple[float, T] | None = None

    def get(self, *, fresh: bool = False) -> T:
        now = time.monotonic()
        kept = self._kept
        if fresh or kept is None or now - kept[0] >= self.ttl:
            value = self.load()
            self._kept = kept = (now, value)
        return kept[1]

    def forget(self) -> None:
        self._kept = None
