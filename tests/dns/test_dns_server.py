"""The test DNS server helper itself: start, stop, restart, zone changes, port clashes."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

import dnsserver
from dnsserver import DnsServer, DnsServerError, make_zone
from oxdkim import DnsStatus
from oxdkim.resolvers import DnspythonResolver

Factory = Callable[..., DnsServer]


def test_server_keeps_everything_in_its_workdir(dns_server_factory: Factory) -> None:
    """Config, PID file, control socket and zone files all live in the work directory."""
    server = dns_server_factory({"a.test": make_zone("a.test")})
    try:
        names = {p.name for p in server.workdir.iterdir()}
        assert {"knot.conf", "knotd.pid", "knot.sock", "zones", "db", "knotd.log"} <= names
        assert "server started" in server.log()
    finally:
        server.stop()


def test_restart_keeps_the_port_and_set_zones_replaces_them(
    dns_server_factory: Factory,
) -> None:
    """After stop/start the port is the same; set_zones() serves the new data."""
    server = dns_server_factory({"a.test": make_zone("a.test", 'k TXT "one"\n')})
    resolver = DnspythonResolver([server.nameserver], timeout=0.5, retries=0)
    port = server.port
    assert (b"one",) == resolver.txt("k.a.test").records
    server.restart()
    assert port == server.port
    server.set_zones({"a.test": make_zone("a.test", 'k TXT "two"\n')})
    assert (b"two",) == resolver.txt("k.a.test").records
    server.stop()
    assert not server.running
    server.stop()  # a second stop is harmless


def test_taken_port_is_replaced_on_first_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dns_server_factory: Factory
) -> None:
    """If the chosen port is taken before knotd binds it, a new free port is used."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken_port = taken.getsockname()[1]
        ports = iter([taken_port])
        real_free_port = dnsserver.free_port
        monkeypatch.setattr(dnsserver, "free_port", lambda: next(ports, None) or real_free_port())
        with DnsServer({"a.test": make_zone("a.test")}, workdir=tmp_path) as server:
            assert taken_port != server.port
            resolver = DnspythonResolver([server.nameserver], timeout=0.5)
            assert DnsStatus.NXDOMAIN == resolver.txt("x.a.test").status


def test_explicit_port_in_use_is_an_error(tmp_path: Path, dns_server_factory: Factory) -> None:
    """A port the caller chose is not silently changed: startup fails with the log."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        server = DnsServer(
            {"a.test": make_zone("a.test")}, workdir=tmp_path, port=taken.getsockname()[1]
        )
        with pytest.raises(DnsServerError, match="cannot bind"):
            server.start()
        assert not server.running
