"""
The key ring's values: slots, their states, rollover timings, and the immutable snapshot.

Signers read one :class:`RingSnapshot` per message. The steps that change it are pure
functions in :mod:`oxdkim._keys.rollover`; :class:`oxdkim._keys.keyring.KeyRing` holds the current
snapshot and swaps it atomically.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._base.clock import LATEST, checked_time
from .._base.domains import DomainSyntaxError, normalize_domain, normalize_selector
from .._base.files import is_whole_number, looks_like_key_text, shown
from .._dkim.crypto import Algorithm, SigningKey
from ..exceptions import ConfigurationError, NoActiveKeyError

DEFAULT_SELECTORS = ("mail1", "mail2")


class SlotState(enum.Enum):
    """Where a slot's key is in its life."""

    EMPTY = "empty"  # no key
    STAGED = "staged"  # generated; DNS not yet confirmed to serve it
    PUBLISHED = "published"  # DNS serves it; not signing yet
    ACTIVE = "active"  # signs new mail
    RETIRING = "retiring"  # superseded; still published for mail in flight
    REVOKED = "revoked"  # published with an empty p=


def selector_of(value: object) -> str:
    """
    ``value`` as a normalized selector, or a :class:`ConfigurationError` that never
    echoes a value that may be key material (and chains no exception that does).
    """
    problem = f"a selector is a string, not {type(value).__name__}"
    if isinstance(value, str):
        try:
            return normalize_selector(value)
        except DomainSyntaxError as exc:
            problem = str(exc) if not looks_like_key_text(value) else f"{shown(value)}"
    raise ConfigurationError(f"invalid selector: {problem}")


def domain_of(value: object, what: str) -> str:
    """``value`` as a normalized domain (underscores allowed); errors as :func:`selector_of`."""
    problem = f"a domain is a string, not {type(value).__name__}"
    if isinstance(value, str):
        try:
            return normalize_domain(value, allow_underscore=True)
        except DomainSyntaxError as exc:
            problem = str(exc) if not looks_like_key_text(value) else f"{shown(value)}"
    raise ConfigurationError(f"invalid {what}: {problem}")


def _optional_domain(value: str | None) -> str | None:
    return None if value is None else domain_of(value, "key host")


MAX_WAIT = timedelta(days=100 * 366)
"""The longest rollover wait (record TTL, negative TTL, retention, dual signing)."""
MAX_TTL = 2**31 - 1
"""The largest DNS TTL (RFC 2181 §8); a longer one shown by DNS counts as this."""


def _optional_time(value: object) -> datetime | None:
    return None if value is None else checked_time(value, "a slot time")


def _optional_deadline(value: object) -> datetime | None:
    """An end of dual signing: a step's time plus at most :data:`MAX_WAIT`."""
    return (
        None if value is None else checked_time(value, "dual_sign_until", latest=LATEST + MAX_WAIT)
    )


def _wait(instance: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta):
        raise ConfigurationError(
            f"{attribute.name} must be a timedelta, not {type(value).__name__}"
        )
    if value < timedelta(0):
        raise ConfigurationError(f"{attribute.name} must not be negative")
    if value > MAX_WAIT:
        raise ConfigurationError(f"{attribute.name} must be at most {MAX_WAIT.days} days")


def _ttl(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_TTL:
        raise ConfigurationError(f"published_ttl must be a TTL of 1 to {MAX_TTL} seconds")


def _kind(kind: type) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """A validator: the value must be a ``kind`` (a str where an enum goes is refused)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ConfigurationError(
                f"{attribute.name} must be a {kind.__name__}, not {type(value).__name__}"
            )

    return check


def _optional_key(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, SigningKey):
        raise ConfigurationError(f"a slot's key must be a SigningKey, not {type(value).__name__}")


def _generation(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_whole_number(value) or not 0 <= value < 2**63:  # type: ignore[operator]
        raise ConfigurationError("generation must be a whole number from 0 to 2**63 - 1")


def _slots(value: object) -> tuple[KeySlot, ...]:
    """The slots as a tuple (a list would not compare equal to the loaded ring)."""
    if isinstance(value, KeySlot) or not isinstance(value, tuple | list):
        raise ConfigurationError("slots must be a tuple of two KeySlots")
    if not all(isinstance(slot, KeySlot) for slot in value):
        raise ConfigurationError("slots must be a tuple of two KeySlots")
    return tuple(value)


@attrs.frozen
class RolloverTimings:
    """
    The waits that make a rollover safe.

    Args:
        record_ttl: TTL the key records are published with. Activation waits at least
            this long after DNS was confirmed (longer if DNS showed a longer TTL), so
            no receiver still holds an older answer.
        negative_ttl: The key host zone's negative-caching TTL (SOA minimum): a receiver
            that asked before the record existed may cache "no such record" this long.
        retention: How long a superseded key stays published so mail in flight still
            verifies (queues retry for about 5 days).
        dual_sign: After an activation, the superseded key keeps signing beside the new
            one this long (0 = off).
    """

    record_ttl: timedelta = attrs.field(default=timedelta(hours=1), validator=_wait)
    negative_ttl: timedelta = attrs.field(default=timedelta(hours=1), validator=_wait)
    retention: timedelta = attrs.field(default=timedelta(days=7), validator=_wait)
    dual_sign: timedelta = attrs.field(default=timedelta(0), validator=_wait)


@attrs.frozen
class KeySlot:
    """
    One selector, the key it holds, its state and when things happened to it.

    ``published_ttl`` is the TTL DNS showed when publication was confirmed;
    ``dual_sign_until`` is set on a retiring slot that keeps signing beside the new one.
    """

    selector: str = attrs.field(converter=selector_of)
    key: SigningKey | None = attrs.field(default=None, validator=_optional_key)
    state: SlotState = attrs.field(default=SlotState.EMPTY, validator=_kind(SlotState))
    since: datetime | None = attrs.field(default=None, converter=_optional_time)
    published_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    published_ttl: int | None = attrs.field(default=None, validator=_ttl)
    dual_sign_until: datetime | None = attrs.field(default=None, converter=_optional_deadline)

    def __attrs_post_init__(self) -> None:
        if (self.key is None) != (self.state in (SlotState.EMPTY, SlotState.REVOKED)):
            raise ConfigurationError(
                f"slot {self.selector}: a {self.state.value} slot "
                f"{'needs' if self.key is None else 'cannot hold'} a key"
            )

    def txt_record(self, algorithm: Algorithm) -> str | None:
        """The TXT value DNS must serve for this slot; empty ``p=`` once revoked."""
        if self.state is SlotState.REVOKED:
            return f"v=DKIM1; k={algorithm.key_type}; p="
        return self.key.txt_record() if self.key is not None else None


@attrs.frozen
class RingSnapshot:
    """
    An immutable view of the ring: two slots, their keys and states, and a generation.

    At most one slot is active; only the very first activation starts from none.
    """

    algorithm: Algorithm = attrs.field(validator=_kind(Algorithm))
    slots: tuple[KeySlot, ...] = attrs.field(converter=_slots)
    key_host: str | None = attrs.field(default=None, converter=_optional_domain)
    timings: RolloverTimings = attrs.field(
        default=RolloverTimings(), validator=_kind(RolloverTimings)
    )
    generation: int = attrs.field(default=0, validator=_generation)

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
        if len(active) > 1:
            raise ConfigurationError("a key ring has at most one active slot")

    @property
    def active(self) -> KeySlot:
        """
        The slot that signs new mail.

        Raises:
            NoActiveKeyError: No key has been activated yet.
        """
        for slot in self.slots:
            if slot.state is SlotState.ACTIVE:
                return slot
        raise NoActiveKeyError("the key ring has no active key yet")

    @property
    def has_active(self) -> bool:
        """True once a key has been activated."""
        return any(slot.state is SlotState.ACTIVE for slot in self.slots)

    def slot(self, selector: str) -> KeySlot:
        """The slot with ``selector``."""
        for slot in self.slots:
            if slot.selector == selector:
                return slot
        raise ConfigurationError(f"no slot with selector {shown(selector)}")

    def other(self, selector: str) -> KeySlot:
        """The slot that is not ``selector``."""
        self.slot(selector)
        return next(slot for slot in self.slots if slot.selector != selector)

    def signing_slots(self, now: datetime | None = None) -> tuple[KeySlot, ...]:
        """
        The slots that sign a message at ``now``: the active one, then the retiring one
        while its dual-signing grace lasts (only when ``now`` is given).

        Raises:
            NoActiveKeyError: No key has been activated yet.
        """
        slots = [self.active]
        if now is not None:
            slots += [
                slot
                for slot in self.slots
                if slot.state is SlotState.RETIRING
                and slot.dual_sign_until is not None
                and now < slot.dual_sign_until
            ]
        return tuple(slots)

    def txt_records(self) -> dict[str, str]:
        """Selector -> TXT value for the slots that DNS must serve."""
        records = {}
        for slot in self.slots:
            value = slot.txt_record(self.algorithm)
            if value is not None:
                records[slot.selector] = value
        return records

    def replace(self, slot: KeySlot) -> RingSnapshot:
        """A copy with ``slot`` put in place of the slot with the same selector."""
        slots = tuple(slot if s.selector == slot.selector else s for s in self.slots)
        return attrs.evolve(self, slots=slots)
