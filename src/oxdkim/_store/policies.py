"""
The brand's policies over the store: owners and per-domain modes read row by row, the
generic key followed as it changes. They compose with the same
:class:`~oxdkim.policies.LegacyBrandPolicy` and :class:`~oxdkim.policies.TenantGuard` as a
file-configured brand, so signing does not care where the data lives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import attrs

from .._base.events import KeysReloaded, emit, logger
from .._dkim.crypto import SigningKey
from .._signing.policies import DefaultGenericPolicy, _delegate
from .._signing.results import SignatureOptions, SigningDecision, SigningRequest
from ..exceptions import KeyLoadError, KeyStoreError
from ..typing import SigningPolicy
from .postgres import PostgresStore

UNUSABLE_OWNER = "\x00an unusable row"
"""The owner of a domain whose row is corrupt: no tenant can have this name, so no
aligned signature is made for the domain or below it."""


@attrs.frozen
class StoredOwnership:
    """The owners of a brand's domains, read from the store as messages need them."""

    store: PostgresStore
    brand: str

    def owner_of(self, domain: str) -> str | None:
        """The tenant owning ``domain`` (a corrupt row: no tenant can match)."""
        entry = self.store.domain(self.brand, domain)
        if entry is None:
            return None
        return UNUSABLE_OWNER if entry.problem is not None else entry.tenant


@attrs.frozen
class StoredRouting:
    """
    The store's per-domain modes over the brand default: the role of
    :class:`~oxdkim.policies.PerDomainPolicy` for rows read on demand. A domain whose
    row is corrupt is refused with the reason; every other domain signs.
    """

    store: PostgresStore
    brand: str
    default: SigningPolicy
    modes: Mapping[str, SigningPolicy | None]
    name: str = "per-domain"

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Route to the domain's mode, or the default."""
        domain = request.from_domain
        entry = self.store.domain(self.brand, domain)
        if entry is None or (entry.problem is None and entry.mode is None):
            return _delegate(self.name, "brand default", self.default.decide(request))
        if entry.problem is not None:
            return SigningDecision.refuse(
                self.name, f"the store's row for {domain} is unusable: {entry.problem}"
            )
        if entry.mode == "refuse":
            return SigningDecision.refuse(self.name, "signing is disabled for this domain")
        policy = self.modes.get(entry.mode or "")
        if policy is None:
            return SigningDecision.refuse(
                self.name, f"{domain} is set to {entry.mode}, which this brand does not configure"
            )
        return _delegate(self.name, f"{domain} has its own policy", policy.decide(request))


class StoredGenericPolicy:
    """
    :class:`~oxdkim.policies.DefaultGenericPolicy` with the key kept in the store: a
    changed key is loaded at the next message after its announcement; while it cannot be
    loaded, the last good key signs.
    """

    name = "default-generic"

    def __init__(
        self,
        store: PostgresStore,
        brand: str,
        domain: str,
        selector: str,
        key: SigningKey,
        options: SignatureOptions,
    ) -> None:
        self.store = store
        self.brand = brand
        self._token = store.generic_version(brand)
        self._policy = DefaultGenericPolicy(domain, selector, key, options)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<StoredGenericPolicy brand={self.brand!r} d={self._policy.domain}>"

    def decide(self, request: SigningRequest) -> SigningDecision:
        """Sign with the generic spec, after picking up a changed key."""
        if self.store.generic_version(self.brand) != self._token:
            self._reload()
        return self._policy.decide(request)

    def _reload(self) -> None:
        with self._lock:
            token = self.store.generic_version(self.brand)
            if token == self._token:
                return
            started = time.perf_counter()
            try:
                key = self.store.generic_key(self.brand)
            except (KeyStoreError, KeyLoadError) as exc:
                # Tried again at the next change (or, listener down, the next second):
                # not at every message, each logging the same warning.
                self._token = token
                logger.warning("generic key not reloaded, the last good key signs on: %s", exc)
                return
            if key is None:
                logger.warning(
                    "brand %s has no generic key in the store any more; the last one signs on",
                    self.brand,
                )
            else:
                self._policy = attrs.evolve(self._policy, key=key)
            self._token = token
            emit(
                self.store.observer,
                KeysReloaded(self.brand, "generic-key", time.perf_counter() - started),
            )
