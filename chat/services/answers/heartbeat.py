"""How a streaming answer shows that its process lives, and when another calls it dead."""

from datetime import timedelta

# A generation touches its row this often (with its text so far when it grew), wherever
# its process lives.
HEARTBEAT_INTERVAL = 1.5
# A streaming answer not touched for this long belongs to a process that died: four
# heartbeats missed. Clocks of the server machines must agree (NTP).
STALE_STREAM_AFTER = timedelta(seconds=6)
