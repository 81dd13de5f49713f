"""A brand kept in a real PostgreSQL server signs like a brand kept in files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import (
    BRAND,
    GENERIC,
    TENANTS,
    dkimpy_verifies,
    dns_for,
    message,
    seed,
    write_config,
    write_kek,
)

from oxdkim import (
    ConfigFileError,
    KeysReloaded,
    SigningRefusedError,
    load_config,
    signer_from_config,
)
from oxdkim._store.postgres import PostgresStore
from oxdkim._store.sealing import KeyEncryptionKey
from oxdkim.exceptions import KeyEncryptionError, StoreUnavailableError


def until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except StoreUnavailableError:
            pass
        time.sleep(0.02)
    return condition()


def test_aligned_and_generic_signatures_verify_at_dkimpy(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    _, ring, generic = seed(pg_database, kek)
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    dns = dns_for(ring, generic, {d for ds in TENANTS.values() for d in ds})
    aligned = signer.sign(message("two.example"), tenant="t2")
    assert [(r.domain, r.selector) for r in aligned] == [("two.example", "mail1")]
    assert dkimpy_verifies(aligned[0].header + message("two.example"), dns)
    # another tenant's domain: never aligned, the generic fallback signs
    spoof = signer.sign(message("two.example"), tenant="t1")
    assert [(r.domain, r.selector) for r in spoof] == [GENERIC]
    assert dkimpy_verifies(spoof[0].header + message("two.example"), dns)
    # no tenant, unknown domain: generic
    unknown = signer.sign(message("nobody.example"))
    assert [r.domain for r in unknown] == [GENERIC[0]]


def test_a_domain_added_reaches_a_running_signer(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    store, _, _ = seed(pg_database, kek)
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    assert signer.sign(message("new.example"), tenant="t1")[0].domain == GENERIC[0]
    store.add_domains(BRAND, "t1", ["New.Example"])
    assert until(
        lambda: signer.sign(message("new.example"), tenant="t1")[0].domain == "new.example"
    )
    store.remove_domains(BRAND, ["new.example"])
    assert until(lambda: signer.sign(message("new.example"), tenant="t1")[0].domain == GENERIC[0])


def test_a_per_domain_refusal_and_a_rotation_reach_a_running_signer(
    pg_database: str, tmp_path: Path
) -> None:
    kek = write_kek(tmp_path)
    store, ring, _ = seed(pg_database, kek)
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    store.add_domains(BRAND, "t1", ["one.example"], mode="refuse")

    def refused() -> bool:
        try:
            signer.sign(message("one.example"), tenant="t1")
        except SigningRefusedError as exc:
            return "disabled" in exc.decision.reason
        return False

    assert until(refused)
    # the rotator activates mail2 (taken as published long ago): signers follow
    ring.activate("mail2")
    assert until(lambda: signer.sign(message("two.example"), tenant="t2")[0].selector == "mail2")


def test_a_corrupt_row_refuses_that_domain_only(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO oxdkim_domain (brand, domain, tenant, mode) "
            "VALUES ('acme', 'bad.example', 't1', 'sideways')"
        )
        conn.execute(
            "INSERT INTO oxdkim_domain (brand, domain, tenant) VALUES ('acme', 'x y.example', 't1')"
        )
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(message("bad.example"), tenant="t1")
    assert "unusable" in info.value.decision.reason
    assert signer.sign(message("one.example"), tenant="t1")[0].domain == "one.example"


def test_a_wrong_key_encryption_key_is_a_typed_error_and_writes_nothing(
    pg_database: str, tmp_path: Path
) -> None:
    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    other = tmp_path / "other"
    other.mkdir()
    wrong = write_kek(other)
    with pytest.raises(KeyEncryptionError):
        signer_from_config(write_config(other, pg_database, wrong))
    intruder = PostgresStore(pg_database, KeyEncryptionKey.from_file(wrong))
    with pytest.raises(KeyEncryptionError):
        intruder.add_domains(BRAND, "t9", ["evil.example"])
    with pytest.raises(KeyEncryptionError):
        intruder.initialize()
    right = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek))
    assert right.domain(BRAND, "evil.example") is None


def test_keys_are_never_in_clear_in_the_database(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    kek = write_kek(tmp_path)
    _, ring, generic = seed(pg_database, kek, algorithm="rsa-sha256")
    pems = [generic.private_pem()] + [s.key.private_pem() for s in ring.snapshot().slots if s.key]
    with psycopg.connect(pg_database) as conn:
        dump = b"".join(
            bytes(row[0])
            for row in conn.execute(
                "SELECT sealed FROM oxdkim_ring_key UNION ALL SELECT sealed FROM oxdkim_generic_key"
            )
        )
        text = str(conn.execute("SELECT state::text FROM oxdkim_ring").fetchall())
    for pem in pems:
        body = b"".join(pem.splitlines()[1:-1])
        assert body[:40] not in dump
        assert body[:40].decode() not in text
    assert b"PRIVATE KEY" not in dump


def test_an_unreachable_database_at_start_names_the_connection(tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    url = f"host={tmp_path}/nowhere dbname=oxdkim user=postgres password=hunter2 connect_timeout=1"
    with pytest.raises(StoreUnavailableError) as info:
        signer_from_config(write_config(tmp_path, url, kek))
    assert "dbname=oxdkim" in str(info.value)
    assert "hunter2" not in str(info.value) + repr(info.value)


def test_signing_goes_on_with_the_last_good_state_while_the_server_is_down(
    pg_server, pg_database: str, tmp_path: Path
) -> None:
    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    assert signer.sign(message("one.example"), tenant="t1")[0].domain == "one.example"
    pg_server.stop()
    try:
        # what was loaded signs on; what was never loaded is a temporary failure
        assert signer.sign(message("one.example"), tenant="t1")[0].domain == "one.example"
        with pytest.raises(StoreUnavailableError):
            signer.sign(message("two.example"), tenant="t2")
    finally:
        pg_server.start()
    assert until(
        lambda: signer.sign(message("two.example"), tenant="t2")[0].domain == "two.example"
    )


def test_the_config_refuses_file_settings_beside_a_store(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    path = write_config(tmp_path, pg_database, kek)
    path.write_text(
        path.read_text() + 'ring = "ring"\n[brands.acme.tenants]\nt1 = ["one.example"]\n'
    )
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    assert "database" in str(info.value)


def test_reloads_are_reported_to_the_observer(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    store, ring, _ = seed(pg_database, kek)
    events: list[object] = []

    class Recorder:
        def observe(self, event: object) -> None:
            events.append(event)

    signer = signer_from_config(write_config(tmp_path, pg_database, kek), observer=Recorder())
    assert signer.sign(message("one.example"), tenant="t1")[0].domain == "one.example"
    store.remove_domains(BRAND, ["one.example"])
    assert until(lambda: signer.sign(message("one.example"), tenant="t1")[0].domain == GENERIC[0])
    ring.activate("mail2")
    assert until(lambda: signer.sign(message("two.example"), tenant="t2")[0].selector == "mail2")
    reloads = {e.what for e in events if isinstance(e, KeysReloaded)}
    assert reloads >= {"domains", "ring"}
    assert all(e.brand == BRAND for e in events if isinstance(e, KeysReloaded))


def test_rebuilding_signers_reuses_one_listener(pg_database: str, tmp_path: Path) -> None:
    """A reload (the milter's SIGHUP) builds the signer again: the store and its listener
    are shared per database and key, never one more thread and two connections each time."""
    import threading

    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    config = write_config(tmp_path, pg_database, kek)

    def listeners() -> int:
        return sum(1 for t in threading.enumerate() if t.name == "oxdkim-store-listener")

    before = listeners()
    signers = [signer_from_config(config) for _ in range(5)]
    assert listeners() == before + 1
    for signer in signers:
        assert signer.sign(message("one.example"), tenant="t1")[0].domain == "one.example"
