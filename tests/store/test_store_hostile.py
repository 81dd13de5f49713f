"""The store as a careless caller and an adversary use it: wrong types, key text where a
path goes, races between writers, corrupt rows, garbage notifications, rows moved."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from helpers import BRAND, KEY_HOST, message, seed, write_config, write_kek

from oxdkim import ConfigurationError, KeyRing, SigningKey, load_config, signer_from_config
from oxdkim.exceptions import KeyEncryptionError
from oxdkim.postgres import BrandData, KeyEncryptionKey, PostgresKeyStore, PostgresStore


def test_key_encryption_key_files_are_checked(tmp_path: Path) -> None:
    pem = SigningKey.generate("ed25519-sha256").private_pem().decode()
    with pytest.raises(ConfigurationError) as info:
        KeyEncryptionKey.from_file(pem)
    assert "PRIVATE" not in str(info.value)
    loose = write_kek(tmp_path)
    loose.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        KeyEncryptionKey.from_file(loose)
    garbage = tmp_path / "garbage"
    garbage.write_text("c2VjcmV0LXRleHQtbm90LWEta2V5\n")
    garbage.chmod(0o600)
    with pytest.raises(ConfigurationError) as info:
        KeyEncryptionKey.from_file(garbage)
    assert "c2VjcmV0" not in str(info.value)
    with pytest.raises(ConfigurationError):
        KeyEncryptionKey.from_file(tmp_path / "missing")
    with pytest.raises(ConfigurationError):
        KeyEncryptionKey(b"short")
    key = KeyEncryptionKey.generate()
    assert key.text() not in repr(key)
    assert (
        KeyEncryptionKey.from_file(write_kek(tmp_path / "..", key)).check_value == key.check_value
    )


def test_the_store_url_is_never_shown(pg_database: str, tmp_path: Path) -> None:
    url = pg_database + " password=hunter2"
    config = load_config(write_config(tmp_path, url, write_kek(tmp_path)))
    assert "hunter2" not in repr(config)
    store = PostgresStore(url, KeyEncryptionKey.generate())
    assert "hunter2" not in repr(store) + store.description
    with pytest.raises(ConfigurationError) as info:
        PostgresStore("host='unterminated password=hunter2", KeyEncryptionKey.generate())
    assert "hunter2" not in str(info.value)


def test_wrong_types_through_the_public_api(pg_database: str, tmp_path: Path) -> None:
    store, _, _ = seed(pg_database, write_kek(tmp_path))
    with pytest.raises(ConfigurationError):
        PostgresStore(b"host=x", KeyEncryptionKey.generate())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        PostgresStore(pg_database, b"0" * 32)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        PostgresKeyStore(store, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA\n")
    with pytest.raises(ConfigurationError):
        PostgresKeyStore("not a store", BRAND)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        store.add_domains(BRAND, "t1", "one.example")  # one string, not a list
    with pytest.raises(ConfigurationError):
        store.add_domains(BRAND, "t1", ["x..example"])
    with pytest.raises(ConfigurationError):
        store.add_domains(BRAND, "t\x00", ["ok.example"])
    with pytest.raises(ConfigurationError):
        store.add_domains(BRAND, "t1", ["ok.example"], mode="sideways")
    with pytest.raises(ConfigurationError):
        store.import_brand(
            BRAND, BrandData({"a": ("d.example",), "b": ("d.example",)}), replace=True
        )
    assert store.domain(BRAND, "ok.example") is None  # nothing of it was written


def test_two_writers_racing_for_one_domain(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    results: list[str] = []

    def claim(tenant: str) -> None:
        store = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek))
        try:
            store.add_domains(BRAND, tenant, ["contested.example"])
            results.append(tenant)
        except ConfigurationError:
            results.append("refused")
        finally:
            store.close()

    threads = [threading.Thread(target=claim, args=(f"t{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("refused") == 5
    winner = next(r for r in results if r != "refused")
    store = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek))
    entry = store.domain(BRAND, "contested.example")
    assert entry is not None
    assert entry.tenant == winner


def test_two_rotators_never_lose_an_update(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    store, ring, _ = seed(pg_database, kek)
    before = ring.snapshot().generation

    def rotate() -> None:
        own = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek))
        mine = KeyRing.open(PostgresKeyStore(own, BRAND), reload_interval=0)
        for _ in range(5):
            mine.swap(lambda snapshot: snapshot)
        own.close()

    threads = [threading.Thread(target=rotate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert PostgresKeyStore(store, BRAND).load().generation == before + 15


def test_a_rolled_back_change_is_neither_written_nor_announced(
    pg_database: str, tmp_path: Path
) -> None:
    kek = write_kek(tmp_path)
    store, _, _ = seed(pg_database, kek)
    with psycopg.connect(pg_database, autocommit=True) as listener:
        listener.execute("LISTEN oxdkim")

        def half_way() -> None:
            with store.transaction(BRAND) as conn:
                conn.execute(
                    "INSERT INTO oxdkim_domain (brand, domain, tenant) VALUES (%s, %s, %s)",
                    (BRAND, "ghost.example", "t1"),
                )
                store.notify(conn, BRAND, "domain", "ghost.example")
                raise RuntimeError("the writer failed half way")

        with pytest.raises(RuntimeError):
            half_way()
        assert list(listener.notifies(timeout=0.5)) == []
    assert store.domain(BRAND, "ghost.example") is None


def test_garbage_notifications_and_corrupt_rings(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    assert signer.sign(message("one.example"), tenant="t1")[0].selector == "mail1"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("SELECT pg_notify('oxdkim', 'not json at all')")
        conn.execute("""SELECT pg_notify('oxdkim', '{"brand": 1}')""")
        # a broken tool writes a corrupt ring state: signers keep the last good ring
        conn.execute("UPDATE oxdkim_ring SET state = '{\"schema\": 99}'")
        conn.execute(
            """SELECT pg_notify('oxdkim', '{"brand": "acme", "what": "ring", "domain": ""}')"""
        )
    time.sleep(1.5)  # past the ring's reload interval
    assert signer.sign(message("one.example"), tenant="t1")[0].selector == "mail1"
    # a new signer refuses to start on it, naming the brand
    with pytest.raises(ConfigurationError, match="acme"):
        signer_from_config(write_config(tmp_path, pg_database, kek))


def test_a_sealed_key_moved_to_another_brand_does_not_open(
    pg_database: str, tmp_path: Path
) -> None:
    kek = write_kek(tmp_path)
    store, _, _ = seed(pg_database, kek)
    ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST)
    PostgresKeyStore(store, "other").save(ring.snapshot())
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DELETE FROM oxdkim_ring_key WHERE brand = 'other'")
        conn.execute(
            "INSERT INTO oxdkim_ring_key SELECT 'other', fingerprint, sealed "
            "FROM oxdkim_ring_key WHERE brand = 'acme'"
        )
        conn.execute(
            "UPDATE oxdkim_ring SET state = (SELECT state FROM oxdkim_ring WHERE brand = 'acme') "
            "WHERE brand = 'other'"
        )
    with pytest.raises(KeyEncryptionError):
        PostgresKeyStore(store, "other").load()


def test_the_domain_cache_is_bounded(pg_database: str, tmp_path: Path) -> None:
    kek = write_kek(tmp_path)
    seed(pg_database, kek)
    store = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek), max_cached_domains=20)
    for i in range(200):
        assert store.domain(BRAND, f"random{i}.sub.example") is None
    assert store.cached_domains <= 20
