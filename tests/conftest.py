"""Shared fixtures. Area-specific fixtures live in each test folder's own conftest.py."""

from __future__ import annotations

import importlib.util
import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dnsserver import DnsServer, find_knotd
from pgserver import PgServer, find_bindir

ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = ROOT.parent / "shared" / "vectors"
LOCAL_VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The published test vectors (tests/vectors, a copy of ../shared/vectors)."""
    return LOCAL_VECTORS


# --- a real DNS server (Knot DNS) for the integration tests; see tests/dnsserver.py ---


@pytest.fixture(scope="session")
def dns_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., DnsServer]]:
    """
    Start real authoritative DNS servers: ``factory(zones, **options) -> DnsServer``.

    ``zones`` maps an origin to master-file text (see ``dnsserver.make_zone``); options
    are ``DnsServer``'s (``broken_zones``, ``port``). The server is running when returned
    and usable as a context manager; every server still running is stopped at the end
    of the session. Without ``knotd`` the test is skipped, or fails when
    ``OXDKIM_REQUIRE_DNS_SERVER=1`` (as in CI).
    """
    knotd = find_knotd()
    if knotd is None:
        message = "knotd (Debian package 'knot') is not installed"
        if os.environ.get("OXDKIM_REQUIRE_DNS_SERVER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    servers: list[DnsServer] = []

    def start(zones: Mapping[str, str | Path], **options: Any) -> DnsServer:
        workdir = tmp_path_factory.mktemp("knotd")
        server = DnsServer(zones, workdir=workdir, knotd=knotd, **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# --- a real PostgreSQL server for the store (tests/store, tests/milter); see pgserver.py ---


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """
    One PostgreSQL server for the session (about a second to start). Without psycopg or
    the server programs the test is skipped, or fails when ``OXDKIM_REQUIRE_POSTGRES=1``
    (as in CI).
    """
    bindir = find_bindir()
    missing = None
    if bindir is None:
        missing = "PostgreSQL server programs (Debian package 'postgresql') are not installed"
    elif importlib.util.find_spec("psycopg") is None:
        missing = "psycopg is not installed (pip install 'oxdkim[postgresql]')"
    if missing is not None or bindir is None:
        if os.environ.get("OXDKIM_REQUIRE_POSTGRES") == "1":
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    server = PgServer(bindir).start()
    yield server
    server.remove()


_databases = itertools.count()


@pytest.fixture
def pg_database(pg_server: PgServer) -> Iterator[str]:
    """The connection string of a new, empty database, dropped after the test."""
    import psycopg

    from oxdkim.postgres import PostgresStore

    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    yield pg_server.conninfo(name)
    PostgresStore.close_all()
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
