"""A real PostgreSQL server for the store tests, and a fresh database for each test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from oxdkim._store.postgres import PostgresStore
from pgserver import PgServer, find_bindir

psycopg = pytest.importorskip("psycopg")

_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """
    One PostgreSQL server for the session (about a second to start). Without the server
    programs the test is skipped, or fails when ``OXDKIM_REQUIRE_POSTGRES=1`` (as in CI).
    """
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL server programs (Debian package 'postgresql') are not installed"
        if os.environ.get("OXDKIM_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = PgServer(bindir).start()
    yield server
    server.remove()


@pytest.fixture
def pg_database(pg_server: PgServer) -> Iterator[str]:
    """The connection string of a new, empty database, dropped after the test."""
    name = f"t{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield pg_server.conninfo(name)
    PostgresStore.close_all()
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
