"""
Fixtures of the milter tests: a world (keys, zones, configuration), a running
``oxdkim milter`` process, and a real Postfix pointed at it.

Without Postfix the tests skip, unless ``OXDKIM_REQUIRE_POSTFIX=1`` (CI sets it) makes
that a failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .postfix import Postfix, free_port, postfix_available, wait_for_port
from .world import DEFAULT_MILTER, write_world

if not postfix_available():
    if os.environ.get("OXDKIM_REQUIRE_POSTFIX"):
        raise RuntimeError("OXDKIM_REQUIRE_POSTFIX is set but postfix is not installed")
    pytest.skip("Debian postfix is not installed", allow_module_level=True)


class MilterProcess:
    """``oxdkim milter`` as the operator runs it: a process, its log in a file."""

    def __init__(
        self,
        config: Path,
        mode: str = "sign",
        port: int | None = None,
        extra: list[str] | None = None,
    ) -> None:
        self.config = config
        self.extra = extra or []
        self.mode = mode
        self.port = port or free_port()
        self.log = config.parent / f"milter-{mode}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def start(self) -> MilterProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "oxdkim",
                    "milter",
                    "--config",
                    str(self.config),
                    "--socket",
                    self.socket,
                    "--mode",
                    self.mode,
                    "--grace",
                    "10",
                    "--log-level",
                    os.environ.get("OXDKIM_MILTER_LOG", "INFO"),
                    *self.extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, timeout=20)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"milter did not start:\n{self.text()}") from None
        return self

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def decision(self, reply: bytes, timeout: float = 10) -> str:
        """The milter's log line for the message Postfix queued with ``reply``."""
        queue_id = reply.rsplit(b" ", 1)[-1].decode()
        deadline = time.monotonic() + timeout
        while True:
            for line in self.text().splitlines():
                if f"queue_id={queue_id} " in line:
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no decision logged for {queue_id}:\n{self.text()[-3000:]}")
            time.sleep(0.05)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture(scope="session")
def world() -> Iterator[Path]:
    """A fresh world under /tmp (Postfix needs the path open to its user)."""
    with tempfile.TemporaryDirectory(prefix="oxdkim-milter-", dir="/tmp") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        yield root


@pytest.fixture(scope="session")
def config(world: Path) -> Path:
    return write_world(world)


@pytest.fixture(scope="session")
def signing_milter(config: Path) -> Iterator[MilterProcess]:
    milter = MilterProcess(config, "sign").start()
    yield milter
    milter.stop()


@pytest.fixture(scope="session")
def postfix(world: Path, signing_milter: MilterProcess) -> Iterator[Postfix]:
    """Postfix signing through the milter; listeners ``acme`` and ``globex`` name a tenant."""
    base = world / "postfix"
    base.mkdir()
    listeners = {
        "acme": {"milter_macro_daemon_name": "submit-acme"},
        "globex": {"milter_macro_daemon_name": "submit-globex"},
    }
    server = Postfix(base, signing_milter.socket, extra_listeners=listeners)
    with server:
        yield server


@contextlib.contextmanager
def instance(
    milter: str = DEFAULT_MILTER,
    *,
    fallback: str = "generic",
    mode: str = "sign",
    sasl_users: dict[str, str] | None = None,
) -> Iterator[tuple[MilterProcess, Postfix, Path]]:
    """A world, milter and Postfix of their own, for tests that break or reconfigure them."""
    with tempfile.TemporaryDirectory(prefix="oxdkim-milter-", dir="/tmp") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        config = write_world(root, milter, fallback)
        process = MilterProcess(config, mode).start()
        try:
            (root / "postfix").mkdir()
            listeners = {"acme": {"milter_macro_daemon_name": "submit-acme"}}
            with Postfix(
                root / "postfix", process.socket, extra_listeners=listeners, sasl_users=sasl_users
            ) as server:
                yield process, server, root
        finally:
            process.stop()


@pytest.fixture
def sink(postfix: Postfix) -> Postfix:
    """The Postfix of the module, its sink emptied."""
    postfix.clear_sink()
    return postfix


@pytest.fixture(scope="session")
def verifying_milter(config: Path) -> Iterator[MilterProcess]:
    milter = MilterProcess(config, "verify").start()
    yield milter
    milter.stop()


@pytest.fixture(scope="session")
def inbound(world: Path, verifying_milter: MilterProcess) -> Iterator[Postfix]:
    """A receiving Postfix whose milter verifies."""
    base = world / "postfix-inbound"
    base.mkdir()
    with Postfix(base, verifying_milter.socket) as server:
        yield server


@pytest.fixture
def mx(inbound: Postfix) -> Postfix:
    """The receiving Postfix, its sink emptied."""
    inbound.clear_sink()
    return inbound
