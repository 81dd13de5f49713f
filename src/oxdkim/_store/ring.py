"""A brand's key ring kept in PostgreSQL: the :class:`~oxdkim.typing.KeyStore` of a fleet."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._dkim.crypto import SigningKey
from .._keys.ringjson import snapshot_of, state_of
from .._keys.ringstate import KeySlot, RingSnapshot
from ..exceptions import ConfigurationError, KeyStoreError
from .postgres import PostgresStore, brand_name

if TYPE_CHECKING:
    import psycopg


class PostgresKeyStore:
    """
    One brand's ring in a :class:`PostgresStore`.

    ``version_token`` is in memory (moved by the store's listener), so a
    :class:`~oxdkim.KeyRing` asks it on every check at no cost and reloads only after a
    change was announced. ``locked`` holds the brand's advisory lock in one transaction
    around the ring's read-change-write; ``load`` and ``save`` inside it use that
    transaction.
    """

    def __init__(self, store: PostgresStore, brand: str) -> None:
        if not isinstance(store, PostgresStore):
            raise ConfigurationError(f"store must be a PostgresStore, not {type(store).__name__}")
        self.store: PostgresStore = store
        self.brand: str = brand_name(brand)
        self._held = threading.local()

    def __repr__(self) -> str:
        return f"<PostgresKeyStore brand={self.brand!r} {self.store.description}>"

    def _writer(self) -> psycopg.Connection[tuple[Any, ...]] | None:
        conn: psycopg.Connection[tuple[Any, ...]] | None = getattr(self._held, "conn", None)
        return conn

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the brand's writer lock (a transaction: nothing is written if it fails)."""
        with self.store.transaction(self.brand) as conn:
            self._held.conn = conn
            try:
                yield
            finally:
                self._held.conn = None

    def version_token(self) -> Hashable:
        """Moves when a change of the brand's ring was announced (in memory: free)."""
        return self.store.ring_version(self.brand)

    def load(self) -> RingSnapshot:
        """
        Read the ring and unseal its keys.

        Raises:
            StoreUnavailableError: The server cannot be reached.
            KeyStoreError: No ring for the brand, or an invalid one.
            KeyEncryptionError: The key-encryption key does not open the keys.
        """
        conn = self._writer()
        where = f"ring of brand {self.brand} in {self.store.description}"
        rows: tuple[object, dict[str, bytes]] | None
        if conn is None:
            rows = self.store.ring_rows(self.brand)
        else:
            row = conn.execute(
                "SELECT state FROM oxdkim_ring WHERE brand = %s", (self.brand,)
            ).fetchone()
            keys = conn.execute(
                "SELECT fingerprint, sealed FROM oxdkim_ring_key WHERE brand = %s", (self.brand,)
            ).fetchall()
            rows = (row[0], {f: bytes(s) for f, s in keys}) if row else None
        if rows is None:
            raise KeyStoreError(
                f"no key ring for brand {self.brand} in {self.store.description}: "
                "create one with `oxdkim store import` or `oxdkim ring init`"
            )
        state, sealed = rows

        def key_of(entry: Mapping[str, Any]) -> SigningKey | None:
            fingerprint = entry.get("fingerprint")
            if fingerprint is None:
                return None
            if fingerprint not in sealed:
                raise KeyStoreError(f"{where}: the key {fingerprint} is missing")
            return self.store.open_ring_key(self.brand, str(fingerprint), sealed[fingerprint])

        return snapshot_of(state, where, key_of)

    def save(self, snapshot: RingSnapshot) -> None:
        """Write new keys (sealed), the state, drop unnamed keys and announce, atomically."""
        conn = self._writer()
        if conn is None:
            with self.locked():
                self.save(snapshot)
            return
        keep: list[str] = []

        def sealed(slot: KeySlot, key: SigningKey) -> dict[str, Any]:
            conn.execute(
                "INSERT INTO oxdkim_ring_key (brand, fingerprint, sealed) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (self.brand, key.fingerprint, self.store.seal_ring_key(self.brand, key)),
            )
            keep.append(key.fingerprint)
            return {}

        # The ring row first: its keys reference it.
        conn.execute(
            "INSERT INTO oxdkim_ring (brand, state) VALUES (%s, '{}') ON CONFLICT DO NOTHING",
            (self.brand,),
        )
        state = state_of(snapshot, sealed)
        conn.execute(
            "UPDATE oxdkim_ring SET state = %s, version = version + 1, updated_at = now() "
            "WHERE brand = %s",
            (json.dumps(state), self.brand),
        )
        conn.execute(
            "DELETE FROM oxdkim_ring_key WHERE brand = %s AND NOT fingerprint = ANY(%s)",
            (self.brand, keep),
        )
        self.store.notify(conn, self.brand, "ring")
