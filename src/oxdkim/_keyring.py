"""
The key ring: two selector slots of one brand, exactly one of them signing.

Signers read one immutable :class:`RingSnapshot` per message; every change builds a new
snapshot and swaps it in under a lock, so a signature never mixes the selector of one
state with the key of another.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

import attrs

from ._crypto import Algorithm, SigningKey
from ._domains import DomainSyntaxError, normalize_selector
from .exceptions import ConfigurationError, NoActiveKeyError

DEFAULT_SELECTORS = ("mail1", "mail2")


class SlotState(enum.Enum):
    """Where a slot's key is in its life (RFC-neutral operator words)."""

    STAGED = "staged"  # generated, not yet confirmed in DNS
    PUBLISHED = "published"  # DNS serves it; not signing
    ACTIVE = "active"  # signs new mail
    RETIRING = "retiring"  # still published for mail in flight; not signing
    REVOKED = "revoked"  # published with an empty p=


def _selector(value: str) -> str:
    try:
        return normalize_selector(value)
    except DomainSyntaxError as exc:
        raise ConfigurationError(f"invalid selector: {exc}") from None


@attrs.frozen
class KeySlot:
    """One selector and the key it holds, with the state of that key."""

    selector: str = attrs.field(converter=_selector)
    key: SigningKey | None
    state: SlotState
    since: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if self.key is None and self.state is not SlotState.REVOKED:
            raise ConfigurationError(f"slot {self.selector} has no key but is {self.state.value}")

    def txt_record(self, algorithm: Algorithm) -> str:
        """The TXT value DNS must serve for this slot (empty ``p=`` once revoked)."""
        if self.key is None or self.state is SlotState.REVOKED:
            return f"v=DKIM1; k={algorithm.key_type}; p="
        return self.key.txt_record()


@attrs.frozen
class RingSnapshot:
    """An immutable view of the ring: its slots, their keys and states, and a generation."""

    algorithm: Algorithm
    slots: tuple[KeySlot, ...]
    generation: int = 0

    def __attrs_post_init__(self) -> None:
        selectors = [slot.selector for slot in self.slots]
        if len(self.slots) != 2 or len(set(selectors)) != 2:
            raise ConfigurationError(f"a key ring has two distinct selectors, got {selectors}")
        for slot in self.slots:
            if slot.key is not None and slot.key.algorithm is not self.algorithm:
                raise ConfigurationError(
                    f"slot {slot.selector} holds an {slot.key.algorithm.value} key "
                    f"in an {self.algorithm.value} ring"
                )
        active = [slot for slot in self.slots if slot.state is SlotState.ACTIVE]
        if len(active) != 1:
            raise NoActiveKeyError(
                f"a key ring needs exactly one active slot, found {len(active)}"
            )

    @property
    def active(self) -> KeySlot:
        """The slot that signs new mail."""
        return next(slot for slot in self.slots if slot.state is SlotState.ACTIVE)

    def slot(self, selector: str) -> KeySlot:
        """The slot with ``selector``."""
        for slot in self.slots:
            if slot.selector == selector:
                return slot
        raise ConfigurationError(f"no slot with selector {selector!r}")

    def signing_slots(self) -> tuple[KeySlot, ...]:
        """The slots that sign a message now: the active one."""
        return (self.active,)

    def txt_records(self) -> dict[str, str]:
        """Selector -> TXT value, for both slots."""
        return {slot.selector: slot.txt_record(self.algorithm) for slot in self.slots}


class KeyRing:
    """
    A brand's two-slot key ring, safe to read from many signing threads.

    Build one with :meth:`generate` or :meth:`from_keys`.
    """

    def __init__(self, snapshot: RingSnapshot) -> None:
        self._snapshot = snapshot
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        snap = self._snapshot
        slots = ", ".join(f"{s.selector}={s.state.value}" for s in snap.slots)
        return f"<KeyRing {snap.algorithm.value} generation={snap.generation} {slots}>"

    @classmethod
    def from_keys(
        cls,
        keys: Mapping[str, SigningKey],
        *,
        active: str,
        since: datetime | None = None,
    ) -> KeyRing:
        """
        A ring from two selector -> key entries; ``active`` names the signing selector,
        the other slot is published and waiting.
        """
        if len(keys) != 2:
            raise ConfigurationError(f"a key ring takes exactly two keys, got {len(keys)}")
        algorithms = {key.algorithm for key in keys.values()}
        if len(algorithms) != 1:
            raise ConfigurationError("both keys of a ring must use the same algorithm")
        active = _selector(active)
        slots = tuple(
            KeySlot(
                selector,
                key,
                SlotState.ACTIVE if _selector(selector) == active else SlotState.PUBLISHED,
                since,
            )
            for selector, key in keys.items()
        )
        if active not in {slot.selector for slot in slots}:
            raise ConfigurationError(f"active selector {active!r} is not one of the ring's")
        return cls(RingSnapshot(algorithms.pop(), slots))

    @classmethod
    def generate(
        cls,
        algorithm: Algorithm | str = Algorithm.RSA_SHA256,
        *,
        selectors: tuple[str, str] = DEFAULT_SELECTORS,
        bits: int = 2048,
        since: datetime | None = None,
    ) -> KeyRing:
        """A ring with two fresh keys; the first selector is active."""
        keys = {selector: SigningKey.generate(algorithm, bits=bits) for selector in selectors}
        return cls.from_keys(keys, active=selectors[0], since=since)

    def snapshot(self) -> RingSnapshot:
        """The current immutable view; read it once per message."""
        return self._snapshot

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm of both keys."""
        return self._snapshot.algorithm

    def txt_records(self) -> dict[str, str]:
        """Selector -> TXT value DNS must serve, for both slots."""
        return self._snapshot.txt_records()

    def swap(self, change: Callable[[RingSnapshot], RingSnapshot]) -> RingSnapshot:
        """
        Replace the snapshot with ``change(current)`` atomically and return the new one.

        ``change`` runs under the ring's lock; the result is validated (exactly one active
        slot) by construction before it becomes visible to signers.
        """
        with self._lock:
            new = change(self._snapshot)
            self._snapshot = attrs.evolve(new, generation=self._snapshot.generation + 1)
            return self._snapshot
