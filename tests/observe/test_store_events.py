"""
A brand in a real PostgreSQL server, signed through ``signer_from_config(...,
observer=...)``: the store's reloads and lost connections reach the same observer as the
signer's events, and the Prometheus counters show them (no password anywhere).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from oxdkim import (
    KeyRing,
    KeysReloaded,
    PrometheusObserver,
    Refused,
    SigningKey,
    StoreUnreachable,
    signer_from_config,
)
from oxdkim.exceptions import StoreUnavailableError
from oxdkim.testing import make_message
from oxdkim.typing import Event
from pgserver import PgServer, find_bindir

from .helpers import Recorder

psycopg = pytest.importorskip("psycopg")
from oxdkim.postgres import (  # noqa: E402 - needs psycopg
    BrandData,
    KeyEncryptionKey,
    PostgresKeyStore,
    PostgresStore,
)

_numbers = itertools.count()
PASSWORD = "hunter2-not-for-logs"


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    """A PostgreSQL server of this module's own (it is stopped and started here)."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL server programs (Debian package 'postgresql') are not installed"
        if os.environ.get("OXDKIM_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    started = PgServer(bindir).start()
    yield started
    started.remove()


@pytest.fixture
def database(server: PgServer) -> Iterator[str]:
    """A new database's connection string, with a password the server ignores (trust)."""
    name = f"obs{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield f"{server.conninfo(name)} password={PASSWORD}"
    PostgresStore.close_all()
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Both:
    """Records every event and counts it in Prometheus."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.recorder = Recorder()
        self.metrics = PrometheusObserver(registry)

    def observe(self, event: Event, /) -> None:
        self.recorder.observe(event)
        self.metrics.observe(event)


def until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except StoreUnavailableError:
            pass
        time.sleep(0.02)
    return condition()


def _seed(conninfo: str, tmp_path: Path) -> tuple[PostgresStore, Path]:
    kek = KeyEncryptionKey.generate()
    kek_file = tmp_path / "kek"
    kek_file.write_text(kek.text() + "\n")
    kek_file.chmod(0o600)
    store = PostgresStore(conninfo, kek)
    store.initialize()
    generic = SigningKey.generate("ed25519-sha256")
    store.import_brand("acme", BrandData({"t1": ("one.example",)}, {}, generic))
    ring = KeyRing.generate("ed25519-sha256", key_host="keys.brand.example")
    PostgresKeyStore(store, "acme").save(ring.snapshot())
    config = tmp_path / "oxdkim.toml"
    config.write_text(
        f"""
[store]
url = "{conninfo}"
key_encryption_key_file = "{kek_file}"

[brands.acme]
mode = "legacy"
key_host = "keys.brand.example"
generic_domain = "brand-mail.example"
generic_selector = "gen1"
"""
    )
    return store, config


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_store_reloads_and_outages_reach_the_observer(
    server: PgServer, database: str, tmp_path: Path
) -> None:
    """A stopped server is an outage, and a "store" refusal for a domain never loaded
    while a loaded one signs on; after the restart the cached rows are reloaded."""
    store, config = _seed(database, tmp_path)
    registry = CollectorRegistry()
    both = Both(registry)
    signer = signer_from_config(config, observer=both)
    events = both.recorder.events

    assert "one.example" == signer.sign(make_message("a@one.example"), tenant="t1")[0].domain
    # not a domain of the brand yet: generic; added, it reaches the running signer
    assert "brand-mail.example" == signer.sign(make_message("a@new.example"))[0].domain
    store.add_domains("acme", "t1", ["new.example"])
    assert until(
        lambda: signer.sign(make_message("a@new.example"), tenant="t1")[0].domain == "new.example"
    )
    assert 1 <= value(registry, "oxdkim_messages_signed_total", mode="generic")  # until it lands
    assert 2 <= value(registry, "oxdkim_messages_signed_total", mode="aligned")
    assert [] == [e for e in events if isinstance(e, Refused | StoreUnreachable)]

    server.stop()
    try:
        assert "one.example" == signer.sign(make_message("a@one.example"), tenant="t1")[0].domain
        with pytest.raises(StoreUnavailableError):
            signer.sign(make_message("a@never.example"), tenant="t1")
    finally:
        server.start()

    outages = [e for e in events if isinstance(e, StoreUnreachable)]
    assert outages
    assert all(PASSWORD not in f"{e.store} {e.error}" for e in outages)
    assert 1 <= value(registry, "oxdkim_store_unreachable_total")
    refusals = [e for e in events if isinstance(e, Refused)]
    assert ["store"] == [e.kind for e in refusals]
    assert PASSWORD not in refusals[0].reason
    assert 1 == value(registry, "oxdkim_messages_unsigned_total", kind="store")

    # back: the listener reconnects, and rows read before are read again (a reload)
    def reloaded() -> bool:
        signer.sign(make_message("a@one.example"), tenant="t1")
        return any(isinstance(e, KeysReloaded) and e.what == "domains" for e in events)

    assert until(reloaded)
    assert 1 <= value(registry, "oxdkim_key_reloads_total", what="domains")
    assert 1 <= value(registry, "oxdkim_key_reload_seconds_count", what="domains")
    assert all(PASSWORD not in repr(e) for e in events)
