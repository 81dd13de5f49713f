"""
A real PostgreSQL server for the tests, in a temporary directory on a Unix socket.

PostgreSQL refuses to run as root, and CI runs as root: the server then runs as the
``postgres`` system user (``runuser``), in a directory that user owns outside pytest's
private temporary tree. Tests get a server through the ``pg_server`` fixture and a fresh,
empty database each through ``pg_database`` (tests/store/conftest.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PG_USER = "postgres"


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: Debian keeps them out of PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.insert(0, Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def _as_server_user() -> list[str]:
    """The command prefix that runs a server program as a user it accepts."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", PG_USER, "--"]


class PgServer:
    """One PostgreSQL cluster: ``start()``, ``stop()``, ``restart()``; ``conninfo(db)``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # Not under pytest's tmp tree: its parents are private to root, and the server
        # runs as another user. The socket path must stay short (about 100 bytes).
        self.directory = Path(tempfile.mkdtemp(prefix="oxdkim-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        if os.geteuid() == 0:
            entry = pwd.getpwnam(PG_USER)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "--no-sync", "-A", "trust", "-U", PG_USER, "-D", str(self.data))

    def _run(self, program: str, *args: str) -> None:
        command = [*_as_server_user(), str(self.bindir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}\n{log}")

    def start(self) -> PgServer:
        options = f"-k {self.directory} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop (disconnecting every client) and start again on the same socket."""
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string for ``dbname`` over the server's Unix socket."""
        return f"host={self.directory} dbname={dbname} user={PG_USER}"
