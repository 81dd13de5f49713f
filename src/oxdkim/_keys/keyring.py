"""
The key ring: a brand's two selector slots, at most one of them signing.

:class:`KeyRing` holds the current :class:`~oxdkim._keys.ringstate.RingSnapshot` and runs the
rollover steps of :mod:`oxdkim._keys.rollover` against it, atomically: signers read one
snapshot per message, and a step builds a new snapshot and swaps it in under a lock, so
a signature never mixes the selector of one state with the key of another. A ring kept
in a :class:`~oxdkim.typing.KeyStore` persists each step before signers see it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, cast

import attrs

from .._base.clock import checked_time, utc_now
from .._base.events import KeysReloaded, emit, logger
from .._base.files import is_seconds
from .._dkim.crypto import Algorithm, SigningKey
from ..exceptions import (
    ConfigurationError,
    KeyLoadError,
    KeyRingError,
    KeyStoreError,
    RolloverRefusal,
    StoreUnavailableError,
)
from . import rollover as _rollover
from .ringstate import (
    DEFAULT_SELECTORS,
    KeySlot,
    RingSnapshot,
    RolloverTimings,
    SlotState,
    domain_of,
    selector_of,
)

if TYPE_CHECKING:
    from ..typing import Clock, KeyStore, Observer, Resolver


def _flag(name: str, value: object) -> None:
    """A yes/no argument must be a bool: ``force="no"`` must not force anything."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, not {type(value).__name__}")


def _is_key_map(keys: object) -> bool:
    """Whether ``keys`` maps selectors to :class:`SigningKey` (callers pass anything)."""
    return isinstance(keys, Mapping) and all(isinstance(k, SigningKey) for k in keys.values())


class KeyRing:
    """
    A brand's two-slot key ring, safe to read from many signing threads.

    Build one with :meth:`generate`, :meth:`from_keys` or :meth:`open` (a
    :class:`~oxdkim.typing.KeyStore`). A ring opened from a store notices when another
    process rotated it and reloads, at most once per ``reload_interval`` seconds.
    """

    def __init__(
        self,
        snapshot: RingSnapshot,
        *,
        store: KeyStore | None = None,
        reload_interval: float = 1.0,
        clock: Clock = utc_now,
        observer: Observer | None = None,
        brand: str | None = None,
    ) -> None:
        if not is_seconds(reload_interval):
            raise ConfigurationError("reload_interval must be a number of seconds, 0 or more")
        if store is not None and not callable(getattr(store, "load", None)):
            raise ConfigurationError(
                f"store must be a KeyStore such as FileKeyStore, not {type(store).__name__}"
            )
        if not callable(clock):
            raise ConfigurationError(f"clock must be callable, not {type(clock).__name__}")
        # A clock giving naive times would be refused at the first step; say so now.
        checked_time(clock(), "the ring's clock returned a time that")
        self._snapshot = snapshot
        self.clock = clock
        self._lock = threading.Lock()
        self._store = store
        self._reload_interval = reload_interval
        self._next_check = time.monotonic() + reload_interval
        self._token = store.version_token() if store is not None else None
        # When the store last confirmed this view, and whether reloads fail since.
        self._fresh_at = time.monotonic()
        self._failing = False
        self.observer = observer
        self.brand = brand

    def __repr__(self) -> str:
        snap = self._snapshot
        slots = ", ".join(f"{s.selector}={s.state.value}" for s in snap.slots)
        return f"<KeyRing {snap.algorithm.value} generation={snap.generation} {slots}>"

    @classmethod
    def open(
        cls,
        store: KeyStore,
        *,
        reload_interval: float = 1.0,
        clock: Clock = utc_now,
        observer: Observer | None = None,
        brand: str | None = None,
    ) -> KeyRing:
        """
        Load the ring kept in ``store``. ``observer`` hears each reload
        (:class:`~oxdkim.KeysReloaded`, with ``brand``).
        """
        if not callable(getattr(store, "load", None)):
            raise ConfigurationError(
                f"store must be a KeyStore such as FileKeyStore, not {type(store).__name__}"
            )
        return cls(
            store.load(),
            store=store,
            reload_interval=reload_interval,
            clock=clock,
            observer=observer,
            brand=brand,
        )

    @classmethod
    def from_keys(
        cls,
        keys: Mapping[str, SigningKey],
        *,
        active: str,
        since: datetime | None = None,
        key_host: str | None = None,
        timings: RolloverTimings | None = None,
    ) -> KeyRing:
        """
        A ring from two selector -> key entries, both already published in DNS;
        ``active`` names the signing selector.

        ``since`` is when they were published (an aware datetime). Without it the keys
        count as published long enough ago that receivers' caches know them: the
        inactive one may be activated at once.
        """
        if since is not None:
            since = checked_time(since, "since")
        if not _is_key_map(keys):
            raise ConfigurationError("keys must map each selector to a SigningKey")
        if len(keys) != 2:
            raise ConfigurationError(f"a key ring takes exactly two keys, got {len(keys)}")
        algorithms = {key.algorithm for key in keys.values()}
        if len(algorithms) != 1:
            raise ConfigurationError("both keys of a ring must use the same algorithm")
        active = selector_of(active)
        if active not in {selector_of(selector) for selector in keys}:
            raise ConfigurationError(f"active selector {active!r} is not one of the ring's")
        slots = tuple(
            KeySlot(
                selector,
                key,
                SlotState.ACTIVE if selector_of(selector) == active else SlotState.PUBLISHED,
                since,
                published_at=since,
            )
            for selector, key in keys.items()
        )
        return cls(
            RingSnapshot(
                algorithms.pop(),
                slots,
                key_host,
                timings or RolloverTimings(),
            )
        )

    @classmethod
    def generate(
        cls,
        algorithm: Algorithm | str = Algorithm.RSA_SHA256,
        *,
        selectors: tuple[str, str] = DEFAULT_SELECTORS,
        bits: int = 2048,
        since: datetime | None = None,
        key_host: str | None = None,
        timings: RolloverTimings | None = None,
    ) -> KeyRing:
        """A ring with two fresh keys, both taken as published; the first one is active."""
        if not isinstance(cast(object, selectors), tuple | list) or len(selectors) != 2:
            raise ConfigurationError("selectors must be two selectors, e.g. ('mail1', 'mail2')")
        keys = {selector: SigningKey.generate(algorithm, bits=bits) for selector in selectors}
        return cls.from_keys(
            keys, active=selectors[0], since=since, key_host=key_host, timings=timings
        )

    @property
    def store(self) -> KeyStore | None:
        """Where the ring is kept, if anywhere."""
        return self._store

    def snapshot(self) -> RingSnapshot:
        """
        The current immutable view; read it once per message.

        Raises:
            StoreUnavailableError: The ring could not be refreshed from its store for
                half the retention window: another host may have rotated and withdrawn
                the key this view holds, so it no longer signs (a temporary failure).
        """
        if self._store is not None:
            now = time.monotonic()
            if now >= self._next_check:
                self._maybe_reload()
            stale = now - self._fresh_at
            if self._failing and stale > self._snapshot.timings.retention.total_seconds() / 2:
                raise StoreUnavailableError(
                    f"the key ring could not be refreshed from its store for "
                    f"{stale:.0f} s (more than half the retention window): "
                    "not signing with keys another host may have withdrawn"
                )
        return self._snapshot

    def _maybe_reload(self) -> None:
        """
        Reload after the store changed. A failed reload (a store that cannot be reached,
        a state being repaired) keeps the last good snapshot and is tried again at the
        next check: signers keep signing, and each slot's own times still decide what
        is active at the signing time.
        """
        assert self._store is not None
        with self._lock:
            self._next_check = time.monotonic() + self._reload_interval
            token = self._store.version_token()
            if token == self._token:
                self._fresh_at, self._failing = time.monotonic(), False
                return
            started = time.perf_counter()
            try:
                snapshot = self._store.load()
            except (KeyStoreError, KeyLoadError) as exc:
                self._failing = True
                logger.warning("key ring not reloaded, the last good state signs on: %s", exc)
                return
            self._snapshot = snapshot
            self._token = token
            self._fresh_at, self._failing = time.monotonic(), False
            emit(self.observer, KeysReloaded(self.brand, "ring", time.perf_counter() - started))

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm of both keys."""
        return self._snapshot.algorithm

    def txt_records(self) -> dict[str, str]:
        """Selector -> TXT value DNS must serve."""
        return self.snapshot().txt_records()

    def swap(self, change: Callable[[RingSnapshot], RingSnapshot]) -> RingSnapshot:
        """
        Replace the snapshot with ``change(current)`` atomically and return the new one.

        With a store, the writer lock is held, the latest stored state is read first (so
        two rotators never overwrite each other) and the result is saved before signers
        see it.
        """
        with self._lock:
            if self._store is None:
                new = attrs.evolve(change(self._snapshot), generation=self._snapshot.generation + 1)
            else:
                with self._store.locked():
                    current = self._store.load()
                    new = attrs.evolve(change(current), generation=current.generation + 1)
                    self._store.save(new)
                    self._token = self._store.version_token()
            self._snapshot = new
            return new

    # --- rollover steps -------------------------------------------------------------

    def _now(self, now: datetime | None) -> datetime:
        """``now``, or the clock's time; checked (aware, in range) before any step runs."""
        if now is not None:
            return checked_time(now, "now")
        return checked_time(self.clock(), "the ring's clock returned a time that")

    def stage(
        self,
        key: SigningKey,
        *,
        selector: str | None = None,
        now: datetime | None = None,
        replace: bool = False,
    ) -> RingSnapshot:
        """
        Put ``key`` in ``selector`` (default: the slot that is not active) as staged.

        A slot holding a staged or published key (one DNS may already serve) is
        replaced only with ``replace=True``; otherwise the step is refused with
        ``would-replace``.
        """
        if not isinstance(key, SigningKey):
            raise ConfigurationError(f"key must be a SigningKey, not {type(key).__name__}")
        _flag("replace", replace)
        when = self._now(now)
        chosen = None if selector is None else selector_of(selector)
        return self.swap(
            lambda s: _rollover.stage(
                s,
                chosen if chosen is not None else _rollover.default_stage_slot(s),
                key,
                when,
                replace=replace,
            )
        )

    def record_name(self, selector: str, via_domain: str | None = None) -> str:
        """
        Where a verifier looks for ``selector``'s key: at the key host, or through the
        CNAME of a customer domain when ``via_domain`` is given.
        """
        if via_domain is not None:
            return f"{selector_of(selector)}._domainkey.{domain_of(via_domain, 'via_domain')}"
        key_host = self._snapshot.key_host
        if key_host is None:
            raise KeyRingError(
                "the ring has no key host; give one to check DNS publication",
                reason=RolloverRefusal.NO_KEY_HOST,
            )
        return f"{selector_of(selector)}._domainkey.{key_host}"

    def confirm(
        self,
        selector: str,
        resolver: Resolver,
        *,
        via_domain: str | None = None,
        now: datetime | None = None,
    ) -> RingSnapshot:
        """
        Check that DNS serves ``selector``'s staged key, then mark it published.

        The query follows CNAMEs exactly as a verifier's would; with ``via_domain`` it
        starts at that customer domain's delegation CNAME.

        Raises:
            KeyRingError: DNS serves nothing, several records, another key, or a record
                verifiers would refuse.
            DnsTempError: DNS could not answer now; try again.
            DnsPermError: The name cannot be resolved at all (a CNAME loop, too many hops).
        """
        name = self.record_name(selector, via_domain)
        if not callable(getattr(resolver, "txt", None)):
            raise ConfigurationError(
                f"resolver must be a Resolver (with .txt), not {type(resolver).__name__}"
            )
        answer = resolver.txt(name)
        when = self._now(now)
        return self.swap(lambda s: _rollover.confirm(s, selector_of(selector), name, answer, when))

    def activate(self, selector: str, *, now: datetime | None = None) -> RingSnapshot:
        """Make ``selector`` sign new mail; the active slot starts retiring."""
        when = self._now(now)
        return self.swap(lambda s: _rollover.activate(s, selector_of(selector), when))

    def retire(self, selector: str, *, now: datetime | None = None) -> RingSnapshot:
        """Stop signing with ``selector`` (see :func:`oxdkim._keys.rollover.retire`)."""
        when = self._now(now)
        return self.swap(lambda s: _rollover.retire(s, selector_of(selector), when))

    def revoke(
        self, selector: str, *, force: bool = False, now: datetime | None = None
    ) -> RingSnapshot:
        """Revoke ``selector``'s key after its retention window (``force``: now)."""
        _flag("force", force)
        when = self._now(now)
        return self.swap(lambda s: _rollover.revoke(s, selector_of(selector), when, force=force))

    def status(self, *, now: datetime | None = None) -> tuple[_rollover.SlotStatus, ...]:
        """Each slot's state and what its next step waits for."""
        return _rollover.status(self.snapshot(), self._now(now))
