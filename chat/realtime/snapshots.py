"""Which live frames a socket forwards after subscribing mid-stream.

A subscriber joins the conversation's group, then asks each running generation for a
snapshot. Deltas that reach it before the snapshot are covered by it, as are any with a
seq at or below the snapshot's; the rest continue from it: no gap, no duplicate. A
delta delivered twice (a send retried after Redis failed half-way) is dropped by its seq.
"""

from chat.realtime.frames import ServerFrame


class SnapshotGate:
    def __init__(self) -> None:
        self._awaiting: set[int] = set()
        # message id -> the highest seq forwarded (or covered by its snapshot)
        self._covered: dict[int, int] = {}

    def expect(self, message_id: int) -> None:
        self._awaiting.add(message_id)

    def admit(self, frame: ServerFrame) -> bool:
        if frame["type"] in ("delta", "tool"):
            message_id, seq = frame["message_id"], frame["seq"]
            if message_id in self._awaiting or seq <= self._covered.get(message_id, 0):
                return False
            self._covered[message_id] = seq
            return True
        if frame["type"] == "snapshot":
            self._awaiting.discard(frame["message_id"])
            self._covered[frame["message_id"]] = frame["seq"]
        elif frame["type"] == "done":
            self._awaiting.discard(frame["message_id"])
            self._covered.pop(frame["message_id"], None)
        return True
