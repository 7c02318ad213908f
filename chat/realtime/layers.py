"""The channel layer of a single-process site: Channels' in-memory layer, made cheap.

The base class sweeps every channel and group for expired entries on each receive and
group_send, starts a task per group member and deep-copies every message: with 100
streams that was a tenth of the server's CPU (docs/benchmarks.md). Here the sweep runs
at most once a second and group_send puts straight into the members' queues. Messages
are copied one level deep: chatsite's handlers never change what they receive.
Several processes use channels-redis, through RedisLayer below.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Inbox:
    """The frames for one socket that never leave its process (RedisLayer.publish): read
    by its consumer beside the channel layer. A socket that stops reading loses its place:
    it is closed, and its page subscribes again (snapshots, or the saved answer)."""

    CAPACITY = 1000

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.CAPACITY)

    def put(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(dict(message))
        except asyncio.QueueFull:
            self.queue.get_nowait()  # room for the one that says what happened
            self.queue.put_nowait({"type": "layer.recovered"})


class InProcessChannelLayer(InMemoryChannelLayer):
    SWEEP_EVERY = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            super()._clean_expired()  # type: ignore[misc]  # private: not in channels' stubs

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

    # Every channel is in this process: publishing is group_send, delivering is send.
    async def publish(self, group: str, message: dict[str, Any]) -> None:
        await self.group_send(group, message)

    async def deliver(self, channel: str, message: dict[str, Any]) -> None:
        await self.send(channel, message)

    def is_local(self, channel: str) -> bool:
        return True

    def inbox_open(self, channel: str) -> Inbox | None:
        return None  # its channels are read straight from memory already

    def inbox_close(self, channel: str) -> None:
        pass


class RedisLayer(RedisChannelLayer):
    """channels-redis that rides out a Redis restart instead of failing its callers.

    - Every operation that fails to reach Redis is tried again (backoff up to 0.5 s) for
      up to `retry_for` seconds before it raises; receiving waits for as long as it takes.
      A process's consumers therefore outlive an outage instead of dying with 1011.
    - A Redis that comes back empty has forgotten every group membership. The layer
      keeps the memberships this process made, and adds them all again before its first
      operation after an outage.
    - If Redis restarted (its run_id changed) or the outage outlasted the messages'
      expiry, what waited in it may be gone: after the memberships are back, each local
      channel that is in a group gets a `layer.recovered` message, so its consumer can
      have its page catch up (chatsite's closes the socket; the page reconnects and
      subscribes: snapshots, or the saved answer). Connections dropped by a Redis that
      kept running lose nothing, and the sockets stay open.
    - Connections come from a blocking pool: at its size, callers wait for one (up to
      `timeout` s) instead of failing at once. redis-py's own retries are off, so every
      failure is seen here, including the first command on a connection Redis dropped.
    """

    def __init__(self, *args: Any, retry_for: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_for = retry_for
        self.memberships: dict[str, set[str]] = {}  # group -> channels added by this process
        self.lost = False  # an operation failed to reach Redis: restore before the next one
        self.lost_since = 0.0
        self.run_ids: dict[int, str] = {}  # each host's run_id, to tell a restart
        self.recoveries = 0
        self._restore_lock: asyncio.Lock | None = None
        self.inboxes: dict[str, Inbox] = {}  # this process's sockets, by channel

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        host.setdefault("retry", Retry(NoBackoff(), 0))
        return BlockingConnectionPool.from_url(host.pop("address"), **host)

    # --- surviving an outage --------------------------------------------------------

    async def _retrying(self, operation: Callable[[], Awaitable[T]], *, forever: bool) -> T:
        deadline = time.monotonic() + self.retry_for
        delay = 0.05
        while True:
            try:
                if self.lost:
                    await self._restore()
                return await operation()
            except REDIS_UNREACHABLE as exc:
                if _pool_exhausted(exc):
                    pass  # Redis answers; this process is busy: wait again, restore nothing
                elif not self.lost:
                    self.lost, self.lost_since = True, time.monotonic()
                    logger.warning("Redis unreachable (%s): retrying", exc)
                    await self._drop_connections()
                if not forever and time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)

    async def _drop_connections(self) -> None:
        """Close every pooled connection: after an outage each would fail once more, and
        that failure would be taken for another outage."""
        for index in range(self.ring_size):
            with contextlib.suppress(Exception):
                await self.connection(index).connection_pool.disconnect(inuse_connections=True)

    async def _restore(self) -> None:
        if self._restore_lock is None:
            self._restore_lock = asyncio.Lock()
        async with self._restore_lock:
            if not self.lost:
                return  # another caller restored meanwhile
            known = bool(self.run_ids)
            restarted = await self._note_run_ids() or not known
            # Messages expire, and a sender gives up after retry_for: either way frames
            # may be missing, as after a restart.
            restarted |= time.monotonic() - self.lost_since > min(self.expiry / 2, self.retry_for)
            now = time.time()
            for group, channels in list(self.memberships.items()):
                if not channels:
                    continue
                connection = self.connection(self.consistent_hash(group))
                key = self._group_key(group)
                pipe = connection.pipeline(transaction=False)
                pipe.zadd(key, dict.fromkeys(channels, now))
                pipe.expire(key, self.group_expiry)
                await pipe.execute()
            self.lost = False
            self.recoveries += 1
            logger.warning(
                "Redis reachable again (%s): %s group memberships restored",
                "restarted" if restarted else "same server",
                sum(len(c) for c in self.memberships.values()),
            )
            if not restarted:
                return
            # Whatever waited in Redis may be gone: tell the local channels in groups.
            local = {c for cs in self.memberships.values() for c in cs if self._is_ours(c)}
            for channel in local:
                # A socket hears it in its inbox at once; through the channel layer its
                # consumer would wait out a blocking pop that nothing else wakes now that
                # its frames no longer come through Redis.
                if (inbox := self.inboxes.get(channel)) is not None:
                    inbox.put({"type": "layer.recovered"})
                else:
                    self.receive_buffer[channel].put_nowait({"type": "layer.recovered"})

    async def _note_run_ids(self) -> bool:
        """Remember each host's run_id; whether any changed since last noted."""
        changed = False
        for index in range(self.ring_size):
            info = await self.connection(index).info("server")
            run_id = str(info["run_id"])
            changed |= self.run_ids.get(index, run_id) != run_id
            self.run_ids[index] = run_id
        return changed

    def _is_ours(self, channel: str) -> bool:
        return "!" in channel and self.non_local_name(channel).endswith(self.client_prefix + "!")

    # --- frames that stay in this process ---------------------------------------------

    # A group_send is four round trips to Redis, then a pop and a decode in the receiving
    # process, even for a socket in the process that sent it: with one process on Redis
    # that tripled the CPU per token (docs/benchmarks.md). The sockets of this process
    # read their frames from an Inbox instead (channels-redis cannot be handed a local
    # message: the consumer that holds its receive lock sits in a blocking pop), and
    # Redis carries a frame only to the members in other processes.

    def is_local(self, channel: str) -> bool:
        return self._is_ours(channel)

    def inbox_open(self, channel: str) -> Inbox:
        inbox = self.inboxes[channel] = Inbox()
        return inbox

    def inbox_close(self, channel: str) -> None:
        self.inboxes.pop(channel, None)

    async def remote_members(self, group: str) -> set[str]:
        """The group's channels in other processes (one round trip)."""
        connection = self.connection(self.consistent_hash(group))
        key = self._group_key(group)

        async def read() -> list[Any]:
            pipe = connection.pipeline(transaction=False)
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
            pipe.zrange(key, 0, -1)
            return list((await pipe.execute())[1])

        members = await self._retrying(read, forever=False)
        names = (m.decode() if isinstance(m, bytes) else str(m) for m in members)
        return {name for name in names if not self._is_ours(name)}

    async def publish(self, group: str, message: dict[str, Any]) -> None:
        """group_send, with this process's members reached in memory and the others
        through Redis."""
        self.publish_local(group, message)
        await self.send_each(await self.remote_members(group), message)

    def publish_local(self, group: str, message: dict[str, Any]) -> None:
        """To the group's members in this process, at once, in the order published."""
        for channel in self.memberships.get(group, ()):
            if (inbox := self.inboxes.get(channel)) is not None:
                inbox.put(message)

    async def send_each(self, channels: set[str], message: dict[str, Any]) -> None:
        for channel in channels:
            # As group_send does, a full channel (its process stalled or gone, its socket
            # not yet expired from the group) misses the frame; the others do not.
            with contextlib.suppress(ChannelFull):
                await self.send(channel, message)

    async def deliver(self, channel: str, message: dict[str, Any]) -> None:
        """send, in memory when the channel is this process's (and to nobody when that
        socket has closed: through Redis it would wait in this process unread)."""
        if self._is_ours(channel):
            if (inbox := self.inboxes.get(channel)) is not None:
                inbox.put(message)
        else:
            await self.send_each({channel}, message)

    # --- the layer's operations, each surviving an outage ----------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._retrying(lambda: super(RedisLayer, self).send(channel, message), forever=False)

    async def group_add(self, group: str, channel: str) -> None:
        self.memberships.setdefault(group, set()).add(channel)
        await self._retrying(
            lambda: super(RedisLayer, self).group_add(group, channel), forever=False
        )
        if len(self.run_ids) < self.ring_size:
            # Once per process, to tell a restart from dropped connections later.
            with contextlib.suppress(*REDIS_UNREACHABLE):
                await self._note_run_ids()

    async def group_discard(self, group: str, channel: str) -> None:
        channels = self.memberships.get(group)
        if channels is not None:
            channels.discard(channel)
            if not channels:
                del self.memberships[group]
        await self._retrying(
            lambda: super(RedisLayer, self).group_discard(group, channel), forever=False
        )

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._retrying(
            lambda: super(RedisLayer, self).group_send(group, message), forever=False
        )

    async def receive_single(self, channel: str) -> Any:
        # Waiting to receive has no deadline: a consumer outlives the outage.
        return await self._retrying(
            lambda: super(RedisLayer, self).receive_single(channel), forever=True
        )

    async def _clean_receive_backup(self, index: int, channel: str) -> None:
        # A backup left behind would be delivered a second time.
        await self._retrying(
            lambda: super(RedisLayer, self)._clean_receive_backup(index, channel), forever=False
        )

    async def ping(self) -> None:
        """One round trip to every Redis host, failing fast (for /healthz)."""
        for index in range(self.ring_size):
            await self._retrying(self.connection(index).ping, forever=False)


REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _pool_exhausted(exc: BaseException) -> bool:
    return isinstance(exc, RedisConnectionError) and isinstance(exc.__cause__, TimeoutError)
