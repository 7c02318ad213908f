"""A page of the chat as a test client: the browser's protocol rules, without a browser.

Like static/js: it reassembles `part` frames, follows each answer's `seq`, asks for a
snapshot (subscribe) the moment it sees a gap, and after its socket closes reconnects and
subscribes with the answers it shows as streaming. It records what it saw, so a test can
check that the text it built from snapshots and deltas is the saved answer.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

from tests.servers import site_socket


@dataclass
class Answer:
    text: str = ""
    seq: int = 0
    mending: bool = False  # a gap was seen: deltas wait for the snapshot
    done: dict[str, Any] | None = None
    built: str | None = None  # the text from snapshots and deltas when done came
    gaps: int = 0
    duplicates: int = 0


@dataclass
class Page:
    port: int
    cookie: str
    conversation_id: int | None = None
    answers: dict[int, Answer] = field(default_factory=dict)
    closes: list[int] = field(default_factory=list)  # codes of sockets closed once open
    refused: list[str] = field(default_factory=list)  # why connecting failed
    frames: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    ws: Any = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    largest: int = 0  # the largest websocket message received, in bytes

    def streaming_ids(self) -> list[int]:
        return [i for i, a in self.answers.items() if a.done is None]

    async def send(self, frame: dict[str, Any]) -> None:
        await self.opened.wait()
        await self.ws.send(json.dumps(frame))

    async def subscribe(self, *, branch: bool = False) -> None:
        frame = {"type": "subscribe", "conversation_id": self.conversation_id, "branch": branch}
        await self.ws.send(json.dumps({**frame, "streaming_ids": self.streaming_ids()}))

    async def run(self, until: float) -> None:
        """Stay connected (reconnecting like socket.js) until the monotonic time `until`."""
        connected_before = False
        while time.monotonic() < until:
            try:
                async with site_socket(self.port, self.cookie) as ws:
                    self.ws = ws
                    if self.conversation_id is not None:
                        # After a reconnect, with the branch: messages missed meanwhile.
                        await self.subscribe(branch=connected_before)
                    connected_before = True
                    self.opened.set()
                    await self._read(ws, until)
                    return
            except websockets.ConnectionClosed as exc:
                self.closes.append(exc.rcvd.code if exc.rcvd else 1006)
            except (OSError, websockets.InvalidHandshake) as exc:
                self.refused.append(repr(exc))  # the socket never opened
            self.opened.clear()
            await asyncio.sleep(0.5)

    async def _read(self, ws: Any, until: float) -> None:
        pieces: list[str] = []
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            try:
                data = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                return
            # In bytes, as a websocket's limit counts them.
            size = len(data.encode()) if isinstance(data, str) else len(data)
            self.largest = max(self.largest, size)
            frame = json.loads(data)
            if frame["type"] == "part":
                pieces.append(frame["data"])
                if not frame["last"]:
                    continue
                frame = json.loads("".join(pieces))
                pieces = []
            self.frames.append(frame)
            await self._apply(frame)

    async def _apply(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "conversation":
            self.conversation_id = frame["conversation"]["id"]
        elif kind == "message" and frame["message"]["role"] == "assistant":
            self.answers.setdefault(frame["message"]["id"], Answer())
        elif kind == "branch":
            for message in frame["messages"]:
                if message["role"] != "assistant":
                    continue
                answer = self.answers.setdefault(message["id"], Answer())
                if message["status"] != "streaming" and answer.done is None:
                    answer.built = answer.text
                    answer.done = {**message, "message_id": message["id"], "seq": 0}
        elif kind == "snapshot":
            answer = self.answers.setdefault(frame["message_id"], Answer())
            answer.text, answer.seq, answer.mending = frame["content"], frame["seq"], False
        elif kind == "delta":
            answer = self.answers.setdefault(frame["message_id"], Answer())
            if answer.mending:
                return
            if frame["seq"] <= answer.seq:
                answer.duplicates += 1
            elif frame["seq"] > answer.seq + 1:
                answer.gaps += 1
                answer.mending = True
                await self.subscribe()
            else:
                answer.text += frame.get("content", "")
                answer.seq = frame["seq"]
        elif kind == "done":
            answer = self.answers.setdefault(frame["message_id"], Answer())
            if answer.done is None:
                answer.built = answer.text
            answer.done = frame
        elif kind == "error":
            self.errors.append(frame)

    async def wait_done(self, message_id: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.answers.get(message_id)
            if answer is not None and answer.done is not None:
                return answer.done
            await asyncio.sleep(0.05)
        raise AssertionError(f"no done for answer {message_id} within {timeout} s")

    async def wait_for(self, predicate: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout} s")
            await asyncio.sleep(0.05)
