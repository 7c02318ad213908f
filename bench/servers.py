"""The processes a benchmark run starts, and what /proc says about them."""

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import free_port, wait_for_port
from tests.servers import site_env as tests_site_env
from tests.servers import start_site as serve

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
API_KEY = "sk-bench-fake-upstream"


def start_fake_upstream(*, tokens: int, pace: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chat.fake_upstream",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--tokens",
            str(tokens),
            "--delay",
            str(pace),
        ],
        cwd=ROOT,
    )
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}/v1"


def site_env(*, storage: dict[str, str], base_url: str, write_log: Path) -> dict[str, str]:
    """The tests' production-like environment, plus what the benchmark needs."""
    return tests_site_env(
        **storage,
        LLM_BASE_URL=base_url,
        LLM_API_KEY=API_KEY,
        LLM_MODEL="chatsite-demo",
        CHAT_DB_WRITE_LOG=str(write_log),
        LOG_LEVEL="WARNING",
        # The benchmark's clients are many sockets from one machine on purpose.
        CHAT_FRAMES_PER_SECOND="1000",
        CHAT_FRAME_BURST="1000",
    )


def start_site(
    env: dict[str, str], app: str = "bench.logged_site:application"
) -> tuple[subprocess.Popen[bytes], int]:
    return serve(env, app, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def rss_bytes(pids: list[int]) -> int:
    """The processes' resident memory, added up."""
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        total += next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    return total
