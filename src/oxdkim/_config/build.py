"""Build a brand's signing policy from its validated configuration."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

import attrs

from .._dkim.crypto import SigningKey
from .._keys.keyring import KeyRing
from .._keys.keystore import FileKeyStore
from .._signing.policies import (
    DefaultGenericPolicy,
    DomainOwnership,
    LegacyBrandPolicy,
    PerDomainPolicy,
    RefusePolicy,
    TenantGuard,
)
from .._store.policies import StoredGenericPolicy, StoredOwnership, StoredRouting
from .._store.postgres import PostgresStore
from .._store.ring import PostgresKeyStore
from .._store.sealing import KeyEncryptionKey
from ..exceptions import ConfigurationError, OxDkimError
from ..typing import KeyStore, Observer, Ownership, SigningPolicy
from .values import BrandConfig, StoreConfig


def _passphrase(brand: BrandConfig) -> bytes | None:
    if brand.passphrase_env is None:
        return None
    value = os.environ.get(brand.passphrase_env)
    if value is None:
        raise ConfigurationError(
            f"brands.{brand.name}.passphrase_env: environment variable "
            f"{brand.passphrase_env} is not set"
        )
    return value.encode()


@contextlib.contextmanager
def _at(place: str) -> Iterator[None]:
    """Re-raise key and ring loading errors with their place in the file."""
    try:
        yield
    except OxDkimError as exc:
        raise ConfigurationError(f"{place}: {exc}") from exc


def key_encryption_key(store: StoreConfig) -> KeyEncryptionKey:
    """The store's key-encryption key, from its file or environment variable."""
    with _at("store"):
        if store.key_encryption_key_file is not None:
            return KeyEncryptionKey.from_file(store.key_encryption_key_file)
        assert store.key_encryption_key_env is not None
        return KeyEncryptionKey.from_env(store.key_encryption_key_env)


def open_store(
    store: StoreConfig, *, observer: Observer | None = None, follow: bool = True
) -> PostgresStore:
    """
    The configured store, checked (schema, key-encryption key); following changes
    unless ``follow`` is false (one-shot commands).

    Raises:
        StoreUnavailableError: The server cannot be reached (the message names it).
        KeyStoreError: No store there, or another key-encryption key sealed it.
    """
    with _at("store"):
        kek = key_encryption_key(store)
    key = (store.url, kek.check_value)
    if follow:
        with _following_lock:
            shared = _following.get(key)
            if shared is not None and not shared.closed:
                # One listener per database and process: a reload (SIGHUP) or a second
                # brand reuses it instead of leaving a thread and two connections behind.
                if observer is not None:
                    shared.observer = observer
                return shared
    with _at("store"):
        opened = PostgresStore(store.url, kek, observer=observer)
    opened.check()
    if follow:
        opened.start()
        with _following_lock:
            _following[key] = opened
    return opened


_following: dict[tuple[str, str], PostgresStore] = {}
_following_lock = threading.Lock()


def ring_store(brand: BrandConfig, store: PostgresStore | None = None) -> KeyStore:
    """Where the brand's ring is kept: its directory, or the database."""
    if brand.store is not None:
        return PostgresKeyStore(store or open_store(brand.store, follow=False), brand.name)
    if brand.ring is None:
        raise ConfigurationError(f"brand {brand.name} has no ring configured")
    return FileKeyStore(brand.ring, passphrase=_passphrase(brand), min_rsa_bits=brand.min_rsa_bits)


def with_stored_domains(brand: BrandConfig) -> BrandConfig:
    """
    ``brand`` with its tenants and per-domain modes read from the store (for commands
    that look at every domain: records, check, preview). Signers never load them all.
    """
    if brand.store is None:
        return brand
    data = open_store(brand.store, follow=False).brand_data(brand.name)
    return attrs.evolve(brand, tenants=data.tenants, domains=data.overrides)


def _stored_policy(brand: BrandConfig, observer: Observer | None) -> SigningPolicy:
    """The brand's policy over the database: the same composition as from files."""
    assert brand.store is not None
    store = open_store(brand.store, observer=observer)
    place = f"brands.{brand.name} (in {store.description})"
    generic: SigningPolicy | None = None
    if brand.generic_domain is not None and brand.generic_selector is not None:
        with _at(place):
            key = store.generic_key(brand.name)
        if key is not None:
            generic = StoredGenericPolicy(
                store, brand.name, brand.generic_domain, brand.generic_selector, key,
                brand.options,
            )  # fmt: skip
    ownership = StoredOwnership(store, brand.name)
    ring = None
    if brand.mode == "legacy" or brand.key_host is not None:
        with _at(place):
            ring = KeyRing.open(
                PostgresKeyStore(store, brand.name), observer=observer, brand=brand.name
            )
    needed = "generic key" if brand.mode == "generic" else "key ring"
    return _compose(
        brand,
        generic,
        ring,
        ownership,
        lambda default, chosen: StoredRouting(store, brand.name, default, chosen),
        f"{place}: mode {brand.mode} needs a {needed} in the store (oxdkim store import)",
    )


def _compose(
    brand: BrandConfig,
    generic: SigningPolicy | None,
    ring: KeyRing | None,
    ownership: Ownership,
    route: Callable[[SigningPolicy, dict[str, SigningPolicy | None]], SigningPolicy],
    missing: str,
) -> SigningPolicy:
    """
    The one composition of a brand, wherever its data lives: the aligned policy over the
    ring, the per-domain routing (``route``) over the brand default, inside a tenant guard.
    """
    fallback = generic if brand.fallback == "generic" else None
    legacy = None
    if ring is not None:
        legacy = LegacyBrandPolicy(ring, ownership, brand.options, fallback=fallback)
    chosen: dict[str, SigningPolicy | None] = {"generic": generic, "legacy": legacy}
    default = chosen[brand.mode]
    if default is None:
        raise ConfigurationError(missing)
    return TenantGuard(route(default, chosen), ownership, fallback=fallback)


def build_policy(brand: BrandConfig, *, observer: Observer | None = None) -> SigningPolicy:
    """
    The brand's policy: a per-domain table over the brand default, inside a tenant guard.

    Raises:
        ConfigurationError: A key file or the ring cannot be loaded (the message names the
            setting and the file).
    """
    if brand.store is not None:
        return _stored_policy(brand, observer)
    passphrase = _passphrase(brand)
    generic: SigningPolicy | None = None
    if brand.generic_key is not None:
        if brand.generic_domain is None or brand.generic_selector is None:
            raise ConfigurationError(
                f"brands.{brand.name}: generic_key needs generic_domain and generic_selector"
            )
        with _at(f"brands.{brand.name}.generic_key"):
            key = SigningKey.from_file(
                brand.generic_key, password=passphrase, min_rsa_bits=brand.min_rsa_bits
            )
        generic = DefaultGenericPolicy(
            brand.generic_domain, brand.generic_selector, key, brand.options
        )
    ring = None
    if brand.ring is not None:
        store = FileKeyStore(brand.ring, passphrase=passphrase, min_rsa_bits=brand.min_rsa_bits)
        with _at(f"brands.{brand.name}.ring"):
            ring = KeyRing.open(store, observer=observer, brand=brand.name)

    def route(default: SigningPolicy, chosen: dict[str, SigningPolicy | None]) -> SigningPolicy:
        overrides: dict[str, SigningPolicy] = {}
        for domain, mode in brand.domains.items():
            policy = (
                RefusePolicy("signing is disabled for this domain")
                if mode == "refuse"
                else chosen[mode]
            )
            if policy is None:
                raise ConfigurationError(
                    f'brands.{brand.name}.domains."{domain}": {mode} is not configured'
                )
            overrides[domain] = policy
        return PerDomainPolicy(default, overrides) if overrides else default

    return _compose(
        brand,
        generic,
        ring,
        DomainOwnership.from_tenants(brand.tenants),
        route,
        f"brands.{brand.name}: mode {brand.mode} is not configured",
    )
