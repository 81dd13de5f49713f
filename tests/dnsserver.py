"""
A real authoritative DNS server for the tests: Knot DNS (``knotd``) on 127.0.0.1.

The server runs as the current user, in the foreground, with its configuration, zone
files, database, PID file and control socket all in one temporary directory: no systemd,
no system paths. Tests get one through the ``dns_server_factory`` fixture (tests/conftest.py)::

    @pytest.fixture(scope="module")
    def server(dns_server_factory):
        with dns_server_factory({"example.test": make_zone("example.test", BODY)}) as srv:
            yield srv

    def test_key(server):
        resolver = DnspythonResolver([server.nameserver], timeout=1.0)

``stop()`` and ``start()`` (or ``restart()``) work mid-test: a stopped server gives
timeouts, which oxdkim must report as temporary failures.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.message
import dns.query
import dns.rcode

KNOTD_CANDIDATES = ("/usr/sbin/knotd", "/usr/local/sbin/knotd")
STARTUP_TIMEOUT = 10.0


def find_knotd() -> str | None:
    """The path of ``knotd`` (Debian package ``knot``), or None when it is not installed."""
    found = shutil.which("knotd")
    if found:
        return found
    return next((path for path in KNOTD_CANDIDATES if os.access(path, os.X_OK)), None)


def make_zone(
    origin: str, body: str = "", *, ttl: int = 300, soa_ttl: int = 300, soa_minimum: int = 60
) -> str:
    """
    A complete master file for ``origin``: ``$ORIGIN``, ``$TTL``, SOA and NS, then ``body``.

    Names in ``body`` are relative to ``origin`` unless they end with a dot. A negative
    answer from this zone carries TTL ``min(soa_ttl, soa_minimum)`` (RFC 2308 §5).
    """
    origin = origin.rstrip(".")
    return (
        f"$ORIGIN {origin}.\n$TTL {ttl}\n"
        f"@ {soa_ttl} SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 {soa_minimum}\n"
        f"@ NS ns.{origin}.\nns A 127.0.0.1\n{body}"
    )


def free_port() -> int:
    """A port that is free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port found on 127.0.0.1")


class DnsServerError(RuntimeError):
    """The DNS server could not be started; the message holds its log."""


class DnsServer:
    """
    One ``knotd`` process serving ``zones`` (origin -> master-file text or path).

    Args:
        zones: The zones to serve. Each needs an SOA at its origin (see :func:`make_zone`).
        workdir: An empty directory for everything the server writes.
        knotd: Path of the ``knotd`` binary (default: :func:`find_knotd`).
        broken_zones: Origins configured with an unparsable zone file; Knot answers
            SERVFAIL for names in them.
        port: UDP and TCP port on 127.0.0.1 (default: a free one).
    """

    def __init__(
        self,
        zones: Mapping[str, str | Path],
        *,
        workdir: Path,
        knotd: str | None = None,
        broken_zones: Iterable[str] = (),
        port: int | None = None,
    ) -> None:
        binary = knotd or find_knotd()
        if binary is None:
            raise DnsServerError("knotd is not installed (Debian package 'knot')")
        self.knotd = binary
        self.workdir = Path(workdir)
        self.zones: dict[str, str] = {}
        self.broken_zones = tuple(z.rstrip(".").lower() for z in broken_zones)
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self.workdir / "knotd.log"
        self.set_zones(zones, restart=False)

    # -- public API -------------------------------------------------------------------

    @property
    def nameserver(self) -> str:
        """``host:port`` for :class:`~oxdkim.resolvers.DnspythonResolver`."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the process lives."""
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """What the server logged so far."""
        try:
            return self._log_path.read_text(errors="replace")
        except OSError:
            return ""

    def set_zones(self, zones: Mapping[str, str | Path], *, restart: bool = True) -> None:
        """Serve ``zones`` instead of the current ones (restarts a running server)."""
        self.zones = {
            origin.rstrip(".").lower(): Path(text).read_text() if isinstance(text, Path) else text
            for origin, text in zones.items()
        }
        if restart and self.running:
            self.restart()

    def start(self) -> DnsServer:
        """
        Start the server and wait until every (unbroken) zone answers.

        A port chosen here that another process took in the meantime is replaced by a
        new free one (first start only; a restart keeps its port).
        """
        for _ in range(5):
            try:
                return self._start_once()
            except DnsServerError as exc:
                if self._fixed_port or "cannot bind" not in str(exc):
                    raise
                self.port = free_port()
        return self._start_once()

    def _start_once(self) -> DnsServer:
        if self.running:
            return self
        self._write_files()
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self.knotd, "-c", str(self.workdir / "knot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.workdir,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self._fixed_port = True  # clients now know this port: keep it on restart
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DnsServer knotd {self.nameserver} {state} zones={sorted(self.zones)}>"

    # -- internals --------------------------------------------------------------------

    def _write_files(self) -> None:
        zone_dir = self.workdir / "zones"
        zone_dir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "db").mkdir(exist_ok=True)
        for old in zone_dir.glob("*.zone"):
            old.unlink()
        for origin, text in self.zones.items():
            (zone_dir / f"{origin}.zone").write_text(text)
        for origin in self.broken_zones:
            (zone_dir / f"{origin}.zone").write_text("@ SOA this is not a zone file\n")
        names = [*self.zones, *self.broken_zones]
        zone_lines = "".join(f'  - domain: "{origin}."\n' for origin in names)
        w = self.workdir
        (w / "knot.conf").write_text(
            f"""\
server:
    rundir: "{w}"
    pidfile: "{w}/knotd.pid"
    listen: {self.host}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{w}/knot.sock"
log:
  - target: stderr
    any: info
database:
    storage: "{w}/db"
template:
  - id: default
    storage: "{w}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
{zone_lines}"""
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        pending = list(self.zones)
        while pending:
            if not self.running:
                raise DnsServerError(f"knotd exited during startup:\n{self.log()}")
            if time.monotonic() > deadline:
                raise DnsServerError(f"knotd did not serve {pending} in time:\n{self.log()}")
            query = dns.message.make_query(pending[0] + ".", "SOA")
            try:
                response = dns.query.udp(query, self.host, port=self.port, timeout=0.2)
            except (dns.exception.DNSException, OSError):
                time.sleep(0.02)
                continue
            if response.rcode() == dns.rcode.NOERROR and response.answer:
                pending.pop(0)
            else:
                time.sleep(0.02)
