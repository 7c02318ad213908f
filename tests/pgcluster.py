"""A PostgreSQL cluster of a test's own, in a temporary directory on a free port, that the
test may stop, start and restart: never the shared one the other tests use."""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers import free_port

# Debian's server binaries, of the newest version installed (15 on bookworm).
BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: int(p.parent.name),
    default=Path("/usr/lib/postgresql/15/bin"),
)


class PostgresCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="chatsite-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        # initdb refuses to run as root: then the cluster belongs to the postgres user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
        self._run(
            BIN / "initdb",
            "-D",
            self.data,
            "-U",
            "chatsite",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.start()
        self._run(
            BIN / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "chatsite", "chatsite"
        )
        self.url = f"postgres://chatsite@127.0.0.1:{self.port}/chatsite"

    def _run(self, *args: object) -> None:
        subprocess.run(
            [*self._as, *(str(a) for a in args)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            BIN / "pg_ctl",
            action,
            "-D",
            self.data,
            "-l",
            self.dir / "log",
            "-w",
            "-o",
            options,
            *extra,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
