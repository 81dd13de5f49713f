"""Building a brand in a real PostgreSQL store, and signing through it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dkim

from oxdkim import KeyRing, SigningKey
from oxdkim._store.postgres import BrandData, PostgresStore
from oxdkim._store.ring import PostgresKeyStore
from oxdkim._store.sealing import KeyEncryptionKey

BRAND = "acme"
KEY_HOST = "keys.brand.example"
GENERIC = ("brand-mail.example", "gen1")
TENANTS = {"t1": ("one.example",), "t2": ("two.example", "shop.two.example")}


def write_kek(directory: Path, kek: KeyEncryptionKey | None = None) -> Path:
    path = directory / "kek"
    path.write_text((kek or KeyEncryptionKey.generate()).text() + "\n")
    path.chmod(0o600)
    return path


def write_config(directory: Path, conninfo: str, kek_file: Path, *, mode: str = "legacy") -> Path:
    path = directory / "oxdkim.toml"
    path.write_text(
        f"""
[store]
url = "{conninfo}"
key_encryption_key_file = "{kek_file}"

[brands.{BRAND}]
mode = "{mode}"
key_host = "{KEY_HOST}"
generic_domain = "{GENERIC[0]}"
generic_selector = "{GENERIC[1]}"
"""
    )
    return path


def seed(
    conninfo: str, kek_file: Path, *, algorithm: str = "ed25519-sha256"
) -> tuple[PostgresStore, KeyRing, SigningKey]:
    """A store with the brand's ring, generic key and tenants; returns the admin's view."""
    store = PostgresStore(conninfo, KeyEncryptionKey.from_file(kek_file))
    store.initialize()
    generic = SigningKey.generate(algorithm)
    store.import_brand(BRAND, BrandData(TENANTS, {}, generic))
    ring = KeyRing.generate(algorithm, key_host=KEY_HOST)
    PostgresKeyStore(store, BRAND).save(ring.snapshot())
    admin_ring = KeyRing.open(PostgresKeyStore(store, BRAND), reload_interval=0)
    return store, admin_ring, generic


def dns_for(ring: KeyRing, generic: SigningKey, domains: Mapping[str, object]) -> dict[str, str]:
    """What DNS serves: the ring's records at the key host (reached by CNAME from each
    domain: flattened here) and the generic key."""
    records = {f"{GENERIC[1]}._domainkey.{GENERIC[0]}": generic.txt_record()}
    for selector, txt in ring.txt_records().items():
        records[f"{selector}._domainkey.{KEY_HOST}"] = txt
        for domain in domains:
            records[f"{selector}._domainkey.{domain}"] = txt
    return records


def dkimpy_verifies(message: bytes, records: Mapping[str, str]) -> bool:
    table = {name + ".": value.encode() for name, value in records.items()}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return table.get(name.decode().lower())

    return bool(dkim.DKIM(message).verify(dnsfunc=dnsfunc))


def message(from_domain: str, body: str = "Hello.\r\n") -> bytes:
    return (
        f"From: a@{from_domain}\r\nTo: b@example.org\r\nSubject: hi\r\n"
        f"Date: Sun, 06 Dec 2026 05:00:00 +0000\r\nMessage-ID: <1@{from_domain}>\r\n\r\n{body}"
    ).encode()
