"""Build a brand's signing policy from its validated configuration."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

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
from ..exceptions import ConfigurationError, OxDkimError
from ..typing import SigningPolicy
from .values import BrandConfig


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


def build_policy(brand: BrandConfig) -> SigningPolicy:
    """
    The brand's policy: a per-domain table over the brand default, inside a tenant guard.

    Raises:
        ConfigurationError: A key file or the ring cannot be loaded (the message names the
            setting and the file).
    """
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
    ownership = DomainOwnership.from_tenants(brand.tenants)
    legacy: SigningPolicy | None = None
    if brand.ring is not None:
        store = FileKeyStore(brand.ring, passphrase=passphrase, min_rsa_bits=brand.min_rsa_bits)
        with _at(f"brands.{brand.name}.ring"):
            ring = KeyRing.open(store)
        legacy = LegacyBrandPolicy(
            ring,
            ownership,
            brand.options,
            fallback=generic if brand.fallback == "generic" else None,
        )
    chosen = {"generic": generic, "legacy": legacy}
    default = chosen[brand.mode]
    if default is None:
        raise ConfigurationError(f"brands.{brand.name}: mode {brand.mode} is not configured")
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
    routed: SigningPolicy = PerDomainPolicy(default, overrides) if overrides else default
    fallback = generic if brand.fallback == "generic" else None
    return TenantGuard(routed, ownership, fallback=fallback)
