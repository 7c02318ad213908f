from chat.realtime.snapshots import SnapshotGate


def delta(seq: int, message_id: int = 7) -> dict:
    return {"type": "delta", "message_id": message_id, "seq": seq, "content": f"d{seq}"}


def snapshot(seq: int, message_id: int = 7) -> dict:
    return {"type": "snapshot", "message_id": message_id, "seq": seq, "content": "..."}


def admitted(gate: SnapshotGate, frames: list[dict]) -> list[tuple[str, int]]:
    return [(f["type"], f["seq"]) for f in frames if gate.admit(f)]


def test_deltas_before_the_snapshot_are_covered_by_it_and_dropped():
    gate = SnapshotGate()
    gate.expect(7)
    frames = [delta(4), delta(5), snapshot(5), delta(6), delta(7)]
    assert admitted(gate, frames) == [("snapshot", 5), ("delta", 6), ("delta", 7)]


def test_a_delta_the_snapshot_already_covers_is_dropped_even_after_it():
    gate = SnapshotGate()
    gate.expect(7)
    assert admitted(gate, [snapshot(5), delta(5), delta(6)]) == [("snapshot", 5), ("delta", 6)]


def test_other_answers_stream_through_untouched():
    gate = SnapshotGate()
    gate.expect(7)
    assert admitted(gate, [delta(1, message_id=8), delta(2, message_id=8)]) == [
        ("delta", 1),
        ("delta", 2),
    ]


def test_done_ends_the_wait_and_is_always_sent():
    gate = SnapshotGate()
    gate.expect(7)
    done = {"type": "done", "message_id": 7, "seq": 9}
    assert admitted(gate, [delta(3), done]) == [("done", 9)]


def test_a_delta_delivered_twice_is_forwarded_once():
    gate = SnapshotGate()
    frames = [delta(1), delta(2), delta(2), delta(3), delta(1)]
    assert admitted(gate, frames) == [("delta", 1), ("delta", 2), ("delta", 3)]
