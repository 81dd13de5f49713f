"""
The PostgreSQL store: what a brand is (its key ring, generic key, tenants and domains),
kept in one database that every signing host reads.

Readers load lazily and cache: a brand's ring and generic key when its signer is built,
a domain's row the first time a message needs it (with its parent names, in one query).
A listener thread on its own connection hears every change (``NOTIFY`` sent in the
writer's transaction) and drops what changed; after a reconnect, when notifications may
have been missed, everything cached is marked stale and reloaded at next use. While the
server is unreachable, what is cached keeps serving; what is not raises
:class:`~oxdkim.exceptions.StoreUnavailableError` (a temporary failure).

Writers take a per-brand advisory lock and write, bump the row's version and notify in
one transaction: two rotators never interleave, and a rolled-back change is never
announced.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

import attrs

from .._base.domains import DomainSyntaxError, checked_domain, normalize_domain
from .._base.events import KeysReloaded, StoreUnreachable, emit
from .._base.files import looks_like_key_text, shown
from .._dkim.crypto import RSA_DEFAULT_MIN_BITS, SigningKey
from ..exceptions import (
    ConfigurationError,
    KeyEncryptionError,
    KeyStoreError,
    StoreUnavailableError,
)
from ..typing import Observer
from .schema import CHANNEL, LOCK_NAMESPACE, VERSION, migrate
from .sealing import KeyEncryptionKey

if TYPE_CHECKING:
    import psycopg

MODES = ("generic", "legacy", "refuse")
"""The per-domain modes a row may hold (``NULL``: the brand's default)."""


def _psycopg() -> Any:
    try:
        import psycopg  # noqa: PLC0415 (an optional extra)
    except ImportError:
        raise ConfigurationError(
            "the PostgreSQL store needs psycopg: pip install 'oxdkim[postgresql]'"
        ) from None
    return psycopg


def describe(conninfo: str) -> str:
    """The connection string without its password, for messages and logs."""
    psycopg = _psycopg()
    try:
        parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        raise ConfigurationError(
            "the store url is not a libpq connection string (its text is not shown)"
        ) from None
    shown_parts = [
        f"{name}={parts[name]}" for name in ("host", "port", "dbname", "user") if name in parts
    ]
    return "postgresql " + (" ".join(shown_parts) or "(libpq defaults)")


@attrs.frozen
class DomainEntry:
    """
    One domain's row: its tenant and mode (``None``: the brand's default), or the
    ``problem`` that makes the row unusable (the domain is then refused, the rest sign).
    """

    domain: str
    tenant: str | None
    mode: str | None
    problem: str | None = None


def _entry(domain: str, tenant: object, mode: object) -> DomainEntry:
    """A row read from the database, checked: a corrupt row names its problem."""
    try:
        if normalize_domain(domain) != domain:
            return DomainEntry(domain, None, None, "the domain is not in normal form")
    except DomainSyntaxError as exc:
        return DomainEntry(domain, None, None, f"invalid domain ({exc.reason})")
    if tenant is not None and not _is_name(tenant):
        return DomainEntry(domain, None, None, "the tenant is not a short name")
    if mode is not None and mode not in MODES:
        return DomainEntry(domain, None, None, f"unknown mode {shown(mode)}")
    return DomainEntry(domain, tenant, mode)


def _is_name(value: object) -> TypeGuard[str]:
    """A brand's or a tenant's name: a short word, never key material."""
    return isinstance(value, str) and 0 < len(value) <= 200 and not looks_like_key_text(value)


def _checked_name(value: object, what: str) -> str:
    if not _is_name(value):
        raise ConfigurationError(f"a {what} is a short name, not {shown(value)}")
    return value


def brand_name(value: object) -> str:
    """A brand's name as rows hold it, checked."""
    return _checked_name(value, "brand")


def _listed(domains: Iterable[str]) -> list[str]:
    """``domains`` as a list; one domain given as a bare string is a mistake, not 11."""
    if isinstance(domains, str | bytes):
        raise ConfigurationError("domains must be a list of domains, not one string")
    return list(domains)


def _names_above(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


@attrs.frozen
class BrandData:
    """Everything a brand keeps in the store, as plain values (import and export)."""

    tenants: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    overrides: Mapping[str, str] = attrs.field(factory=dict)
    generic_key: SigningKey | None = None


class PostgresStore:
    """
    One PostgreSQL database holding brands, shared by every signer and rotator.

    Args:
        conninfo: A libpq connection string or URL (never shown: it may hold a password).
        key_encryption_key: Seals the private keys; the same on every host.
        observer: Receives :class:`~oxdkim.KeysReloaded` and
            :class:`~oxdkim.StoreUnreachable` events.
        connect_timeout: Seconds to wait for the server before calling it unreachable.
        retry_after: Seconds during which, after a failure, lookups fail at once
            instead of waiting for the server again.
        min_rsa_bits: Refuse stored RSA keys below this size.
        max_cached_domains: Domain rows kept in memory (least recently used dropped).
    """

    _open: ClassVar[weakref.WeakSet[PostgresStore]] = weakref.WeakSet()

    @classmethod
    def close_all(cls) -> None:
        """Close every store of this process (at shutdown, or between tests)."""
        for store in list(cls._open):
            store.close()

    def __init__(
        self,
        conninfo: str,
        key_encryption_key: KeyEncryptionKey,
        *,
        observer: Observer | None = None,
        connect_timeout: float = 5.0,
        retry_after: float = 1.0,
        min_rsa_bits: int = RSA_DEFAULT_MIN_BITS,
        max_cached_domains: int = 100_000,
    ) -> None:
        if not isinstance(conninfo, str):
            raise ConfigurationError(f"conninfo must be a str, not {type(conninfo).__name__}")
        if not isinstance(key_encryption_key, KeyEncryptionKey):
            raise ConfigurationError("key_encryption_key must be a KeyEncryptionKey")
        self._psycopg = _psycopg()
        self.description: str = describe(conninfo)
        """The store by host, port, database and user: never its password."""
        self._conninfo = conninfo
        self._kek = key_encryption_key
        self.observer: Observer | None = observer
        self.connect_timeout: float = connect_timeout
        self.retry_after: float = retry_after
        self.min_rsa_bits: int = min_rsa_bits
        self.max_cached_domains: int = max_cached_domains
        self._query_lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._down_until = 0.0
        self._kek_checked = False
        # Change tracking, guarded by _state_lock: the epoch moves on each (re)connect of
        # the listener; the counters on each notification.
        self._state_lock = threading.Lock()
        self._epoch = 0
        self._changes = 0
        self._ring_versions: dict[str, int] = {}
        self._generic_versions: dict[str, int] = {}
        self._domains: OrderedDict[tuple[str, str], tuple[DomainEntry | None, tuple[int, int]]] = (
            OrderedDict()
        )
        # Rows a notification dropped: their next load is a reload (an event).
        self._dropped: set[tuple[str, str]] = set()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._polls = itertools.count()
        self._stop = threading.Event()
        PostgresStore._open.add(self)

    def __repr__(self) -> str:
        return f"<PostgresStore {self.description}>"

    def __del__(self) -> None:
        # A store dropped without close() (an admin's one-shot store) closes its
        # connection; a following store lives on in its listener thread.
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    # --- connections -----------------------------------------------------------------

    def _connect(self, *, autocommit: bool) -> psycopg.Connection[tuple[Any, ...]]:
        conn: psycopg.Connection[tuple[Any, ...]] = self._psycopg.connect(
            self._conninfo,
            autocommit=autocommit,
            connect_timeout=max(1, round(self.connect_timeout)),
        )
        return conn

    def _unreachable(self, exc: BaseException) -> StoreUnavailableError:
        error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        emit(self.observer, StoreUnreachable(self.description, error))
        return StoreUnavailableError(f"{self.description} is unreachable: {error}")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """
        Run one read on the shared connection (reconnecting if needed).

        Raises:
            StoreUnavailableError: The server cannot be reached, or could not within the
                last ``retry_after`` seconds.
        """
        psycopg = self._psycopg
        with self._query_lock:
            if time.monotonic() < self._down_until:
                raise StoreUnavailableError(f"{self.description} is unreachable (retrying soon)")
            # A connection that worked before may be stale (the server restarted, or
            # an administrator ended it): one fresh attempt before calling it down.
            for fresh in (self._conn is None, True):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = self._connect(autocommit=True)
                    return self._conn.execute(sql.encode(), params).fetchall()
                except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    if fresh:
                        self._down_until = time.monotonic() + self.retry_after
                        problem = self._unreachable(exc)
                        break
        raise problem

    @contextlib.contextmanager
    def transaction(self, brand: str) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """
        A writer's transaction on a connection of its own, holding ``brand``'s advisory
        lock: committed when the block ends, rolled back (nothing written, nothing
        announced) if it raises.
        """
        psycopg = self._psycopg
        try:
            conn = self._connect(autocommit=False)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self._unreachable(exc) from None
        with conn:
            self._check_kek(conn)
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, brand)
                )
                yield conn

    def _check_kek(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        """Refuse a key-encryption key other than the one that sealed this store's keys."""
        row = conn.execute("SELECT value FROM oxdkim_meta WHERE name = 'kek_check'").fetchone()
        conn.commit()
        if row is None:
            raise KeyStoreError(
                f"{self.description} holds no oxdkim store: run `oxdkim store init`"
            )
        if row[0] != self._kek.check_value:
            raise KeyEncryptionError(
                f"the key-encryption key is not the one that sealed the keys in "
                f"{self.description}; nothing was read or written"
            )

    def check(self) -> None:
        """
        Connect, and check the schema and the key-encryption key: a signer calls it at
        start, so a wrong setting fails there rather than on the first message.

        Raises:
            StoreUnavailableError: The server cannot be reached (the message names it).
            KeyStoreError: No oxdkim store in that database, or an older schema.
            KeyEncryptionError: Another key-encryption key sealed the keys.
        """
        rows = self.query(
            "SELECT name, value FROM oxdkim_meta WHERE name IN ('schema', 'kek_check')"
        )
        meta = dict(rows)
        if "schema" not in meta:
            raise KeyStoreError(
                f"{self.description} holds no oxdkim store: run `oxdkim store init`"
            )
        if int(meta["schema"]) != VERSION:
            raise KeyStoreError(
                f"{self.description} has oxdkim schema {meta['schema']}, not {VERSION}: "
                "run `oxdkim store init` (it migrates) or upgrade oxdkim"
            )
        if meta.get("kek_check") != self._kek.check_value:
            raise KeyEncryptionError(
                f"the key-encryption key is not the one that sealed the keys in {self.description}"
            )

    def initialize(self) -> int:
        """
        Create or upgrade the schema (idempotent); the first key-encryption key given
        becomes the store's. Returns the schema version.

        Raises:
            KeyEncryptionError: The store was sealed with another key-encryption key.
        """
        psycopg = self._psycopg
        try:
            conn = self._connect(autocommit=True)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self._unreachable(exc) from None
        with conn:
            version = migrate(conn)
            conn.execute(
                "INSERT INTO oxdkim_meta VALUES ('kek_check', %s) ON CONFLICT DO NOTHING",
                (self._kek.check_value,),
            )
            self._check_kek(conn)
        return version

    def notify(
        self, conn: psycopg.Connection[tuple[Any, ...]], brand: str, what: str, domain: str = ""
    ) -> None:
        """Announce a change in the writer's transaction (delivered only if it commits)."""
        payload = json.dumps({"brand": brand, "what": what, "domain": domain})
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    # --- the listener ----------------------------------------------------------------

    def start(self, *, wait: float = 5.0) -> None:
        """
        Start following changes (a daemon thread with its own connection). Idempotent.
        Waits up to ``wait`` seconds for the first ``LISTEN``.
        """
        with self._state_lock:
            if self._listener is not None:
                return
            self._listener = threading.Thread(
                target=self._listen, name="oxdkim-store-listener", daemon=True
            )
            self._listener.start()
        self._listening.wait(wait)

    @property
    def following(self) -> bool:
        """Whether the listener is connected now (changes reach this process)."""
        return self._listening.is_set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._stop.is_set()

    def close(self) -> None:
        """Stop the listener and close the connections."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(5)
        with self._query_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _listen(self) -> None:
        psycopg = self._psycopg
        backoff = 0.05
        while not self._stop.is_set():
            try:
                with self._connect(autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Whatever changed before LISTEN (at start, or while disconnected)
                    # was not announced to us: everything cached is stale now.
                    self._everything_changed()
                    self._listening.set()
                    backoff = 0.05
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._changed(note.payload)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if self._listening.is_set():
                    self._unreachable(exc)
                self._listening.clear()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
        self._listening.clear()

    def _everything_changed(self) -> None:
        with self._state_lock:
            self._epoch += 1
            self._changes += 1

    def _changed(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            brand, what, domain = str(note["brand"]), str(note["what"]), str(note["domain"])
        except (ValueError, KeyError, TypeError):
            self._everything_changed()  # not ours to read: assume the worst
            return
        with self._state_lock:
            self._changes += 1
            if what == "ring":
                self._ring_versions[brand] = self._ring_versions.get(brand, 0) + 1
            elif what == "generic-key":
                self._generic_versions[brand] = self._generic_versions.get(brand, 0) + 1
            elif what == "domain":
                if self._domains.pop((brand, domain), None) is not None:
                    if len(self._dropped) >= self.max_cached_domains:
                        self._dropped.clear()  # bounded: only the events are lost
                    self._dropped.add((brand, domain))
            else:
                self._epoch += 1

    def ring_version(self, brand: str) -> tuple[int, ...]:
        """
        Changes when ``brand``'s ring may have changed (a cheap, in-memory token).

        While the listener is not connected (not started, or refused by the server
        while queries still work) no change is announced: the token then changes at
        every call, so a ring polls the store at its reload interval instead of signing
        on with a key that another host may have retired, revoked and withdrawn.
        """
        if not self._listening.is_set():
            return (self._epoch, self._ring_versions.get(brand, 0), next(self._polls))
        return (self._epoch, self._ring_versions.get(brand, 0))

    def generic_version(self, brand: str) -> tuple[int, ...]:
        """
        Changes when ``brand``'s generic key may have changed; while the listener is
        not connected, every second (the key is then polled, as :meth:`ring_version`).
        """
        if not self._listening.is_set():
            return (self._epoch, self._generic_versions.get(brand, 0), 1 + int(time.monotonic()))
        return (self._epoch, self._generic_versions.get(brand, 0))

    # --- reading ---------------------------------------------------------------------

    def _current(self) -> tuple[int, int]:
        """
        What a cached domain row must carry to be current. While the listener is not
        connected no change is announced: rows then count as current for the second
        they were read in only (a domain moved to another tenant must not sign on for
        the old one until the listener comes back).
        """
        if self._listening.is_set():
            return (self._epoch, 0)
        return (self._epoch, 1 + int(time.monotonic()))

    def domain(self, brand: str, domain: str) -> DomainEntry | None:
        """
        ``domain``'s row in ``brand``, or ``None``; from the cache when it is current.

        A miss loads the domain and every name above it in one query. A stale entry
        (the listener reconnected since, or is down and the row was read in an earlier
        second) is reloaded, or used as it is while the server is unreachable.

        Raises:
            StoreUnavailableError: The row is not cached and the server is unreachable.
        """
        key = (brand, domain)
        with self._state_lock:
            cached = self._domains.get(key)
            epoch, changes = self._current(), self._changes
            if cached is not None and cached[1] == epoch:
                self._domains.move_to_end(key)
                return cached[0]
        names = _names_above(domain)
        try:
            started = time.perf_counter()
            rows = self.query(
                "SELECT domain, tenant, mode FROM oxdkim_domain "
                "WHERE brand = %s AND domain = ANY(%s)",
                (brand, names),
            )
        except StoreUnavailableError:
            if cached is not None:
                return cached[0]  # the last good state
            raise
        found = {row[0]: _entry(row[0], row[1], row[2]) for row in rows}
        with self._state_lock:
            if self._changes == changes:  # nothing announced while we read: cache it
                for name in names:
                    self._domains[(brand, name)] = (found.get(name), epoch)
                    self._domains.move_to_end((brand, name))
                while len(self._domains) > self.max_cached_domains:
                    self._domains.popitem(last=False)
        with self._state_lock:
            dropped = key in self._dropped
            self._dropped.discard(key)
        if cached is not None or dropped:
            emit(self.observer, KeysReloaded(brand, "domains", time.perf_counter() - started))
        return found.get(domain)

    @property
    def cached_domains(self) -> int:
        """How many domain rows (found or not) are held in memory."""
        return len(self._domains)

    def _open_key(self, sealed: bytes, context: str, fingerprint: str) -> SigningKey:
        pem = self._kek.open(bytes(sealed), context)
        key = SigningKey.from_pem(pem, min_rsa_bits=self.min_rsa_bits)
        if key.fingerprint != fingerprint:
            raise KeyStoreError(f"{context}: the sealed key is not the key its row names")
        return key

    def generic_key(self, brand: str) -> SigningKey | None:
        """``brand``'s generic signing key, or ``None`` if the store has none."""
        rows = self.query(
            "SELECT fingerprint, sealed FROM oxdkim_generic_key WHERE brand = %s", (brand,)
        )
        if not rows:
            return None
        fingerprint, sealed = rows[0]
        return self._open_key(sealed, f"generic key of brand {brand}", fingerprint)

    def ring_rows(self, brand: str) -> tuple[object, dict[str, bytes]] | None:
        """
        ``brand``'s ring state and sealed keys by fingerprint, or ``None``.

        One statement, so the state and its keys are of one commit: read apart, a
        rotation landing between them showed a state naming a key already deleted.
        """
        rows = self.query(
            "SELECT r.state, k.fingerprint, k.sealed FROM oxdkim_ring r "
            "LEFT JOIN oxdkim_ring_key k ON k.brand = r.brand WHERE r.brand = %s",
            (brand,),
        )
        if not rows:
            return None
        keys = {row[1]: bytes(row[2]) for row in rows if row[1] is not None}
        return rows[0][0], keys

    def open_ring_key(self, brand: str, fingerprint: str, sealed: bytes) -> SigningKey:
        """Unseal one of ``brand``'s ring keys."""
        return self._open_key(sealed, f"ring key {fingerprint} of brand {brand}", fingerprint)

    def seal_ring_key(self, brand: str, key: SigningKey) -> bytes:
        """``key`` sealed for ``brand``'s ring (bound to the brand and the key)."""
        return self._kek.seal(key.private_pem(), f"ring key {key.fingerprint} of brand {brand}")

    def domains(self, brand: str, tenant: str | None = None) -> list[DomainEntry]:
        """Every domain row of ``brand`` (of ``tenant`` only, if given), sorted."""
        if tenant is None:
            rows = self.query(
                "SELECT domain, tenant, mode FROM oxdkim_domain WHERE brand = %s ORDER BY domain",
                (brand,),
            )
        else:
            rows = self.query(
                "SELECT domain, tenant, mode FROM oxdkim_domain "
                "WHERE brand = %s AND tenant = %s ORDER BY domain",
                (brand, tenant),
            )
        return [_entry(*row) for row in rows]

    def brand_data(self, brand: str) -> BrandData:
        """The tenants table, per-domain modes and generic key of ``brand``."""
        tenants: dict[str, list[str]] = {}
        overrides: dict[str, str] = {}
        for entry in self.domains(brand):
            if entry.problem is not None:
                raise KeyStoreError(f"brand {brand}: domain {entry.domain!r}: {entry.problem}")
            if entry.tenant is not None:
                tenants.setdefault(entry.tenant, []).append(entry.domain)
            if entry.mode is not None:
                overrides[entry.domain] = entry.mode
        return BrandData(
            {tenant: tuple(domains) for tenant, domains in tenants.items()},
            overrides,
            self.generic_key(brand),
        )

    # --- writing ---------------------------------------------------------------------

    def set_generic_key(self, brand: str, key: SigningKey) -> None:
        """Store ``brand``'s generic key (sealed); signers pick it up."""
        brand = brand_name(brand)
        if not isinstance(key, SigningKey):
            raise ConfigurationError(f"key must be a SigningKey, not {type(key).__name__}")
        with self.transaction(brand) as conn:
            self._write_generic_key(conn, brand, key)

    def _write_generic_key(
        self, conn: psycopg.Connection[tuple[Any, ...]], brand: str, key: SigningKey
    ) -> None:
        """Seal and store ``brand``'s generic key and announce it, in the caller's writer
        transaction."""
        context = f"generic key of brand {brand}"
        conn.execute(
            "INSERT INTO oxdkim_generic_key (brand, fingerprint, sealed) VALUES (%s, %s, %s) "
            "ON CONFLICT (brand) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "sealed = excluded.sealed, version = oxdkim_generic_key.version + 1, "
            "updated_at = now()",
            (brand, key.fingerprint, self._kek.seal(key.private_pem(), context)),
        )
        self.notify(conn, brand, "generic-key")

    def add_domains(
        self, brand: str, tenant: str | None, domains: Iterable[str], *, mode: str | None = None
    ) -> list[str]:
        """
        Give ``domains`` to ``tenant`` (with a per-domain ``mode``, if given), in one
        transaction. Returns the normalized domains.

        Raises:
            ConfigurationError: An invalid domain, tenant or mode, or a domain another
                tenant owns (nothing is written).
        """
        brand = brand_name(brand)
        if tenant is not None:
            tenant = _checked_name(tenant, "tenant")
        if mode is not None and mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, not {shown(mode)}")
        names = [checked_domain(domain) for domain in _listed(domains)]
        with self.transaction(brand) as conn:
            rows = conn.execute(
                "SELECT domain, tenant FROM oxdkim_domain WHERE brand = %s AND domain = ANY(%s) "
                "FOR UPDATE",
                (brand, names),
            ).fetchall()
            for domain, owner in rows:
                if owner is not None and owner != tenant:
                    raise ConfigurationError(
                        f"{domain} belongs to tenant {owner!r}; remove it there first"
                    )
            for domain in names:
                conn.execute(
                    "INSERT INTO oxdkim_domain (brand, domain, tenant, mode) "
                    "VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (brand, domain) DO UPDATE SET tenant = excluded.tenant, "
                    "mode = excluded.mode, version = oxdkim_domain.version + 1, updated_at = now()",
                    (brand, domain, tenant, mode),
                )
                self.notify(conn, brand, "domain", domain)
        return names

    def remove_domains(
        self, brand: str, domains: Iterable[str], *, tenant: str | None = None
    ) -> int:
        """Remove ``domains`` (only ``tenant``'s, if given); returns how many were removed."""
        brand = brand_name(brand)
        names = [checked_domain(domain) for domain in _listed(domains)]
        removed = 0
        with self.transaction(brand) as conn:
            for domain in names:
                cursor = conn.execute(
                    "DELETE FROM oxdkim_domain WHERE brand = %s AND domain = %s "
                    "AND (%s::text IS NULL OR tenant = %s)",
                    (brand, domain, tenant, tenant),
                )
                if cursor.rowcount:
                    removed += cursor.rowcount
                    self.notify(conn, brand, "domain", domain)
        return removed

    def import_brand(self, brand: str, data: BrandData, *, replace: bool = False) -> None:
        """
        Write a brand's tenants, per-domain modes and generic key in one transaction.

        Raises:
            KeyStoreError: The brand already has domains and ``replace`` is false.
        """
        brand = brand_name(brand)
        if not isinstance(data, BrandData):
            raise ConfigurationError(f"data must be a BrandData, not {type(data).__name__}")
        with self.transaction(brand) as conn:
            existing = conn.execute(
                "SELECT count(*) FROM oxdkim_domain WHERE brand = %s", (brand,)
            ).fetchone()
            if existing and existing[0] and not replace:
                raise KeyStoreError(
                    f"brand {brand} already has {existing[0]} domains in {self.description}; "
                    "nothing was written (use replace to overwrite)"
                )
            conn.execute("DELETE FROM oxdkim_domain WHERE brand = %s", (brand,))
            owner: dict[str, str] = {}
            for tenant, listed in data.tenants.items():
                _checked_name(tenant, "tenant")
                for domain in map(checked_domain, _listed(listed)):
                    if owner.setdefault(domain, tenant) != tenant:
                        raise ConfigurationError(f"{domain} is listed for two tenants")
            overrides = {checked_domain(d): m for d, m in data.overrides.items()}
            if not set(overrides.values()) <= set(MODES):
                raise ConfigurationError(f"per-domain modes are {', '.join(MODES)}")
            for domain in sorted(set(owner) | set(overrides)):
                conn.execute(
                    "INSERT INTO oxdkim_domain (brand, domain, tenant, mode) "
                    "VALUES (%s, %s, %s, %s)",
                    (brand, domain, owner.get(domain), overrides.get(domain)),
                )
            if data.generic_key is not None:
                self._write_generic_key(conn, brand, data.generic_key)
            self.notify(conn, brand, "all")
