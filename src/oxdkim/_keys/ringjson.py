"""
A ring snapshot as a JSON-ready state and back: one format for every key store.

The state holds the slots, states, timings and generation; each slot's private key is
named by an entry the store chooses (a file, a row) and loaded by a function the store
gives, so the keys themselves are kept wherever the store keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from .._base.clock import iso
from .._dkim.crypto import Algorithm, SigningKey
from ..exceptions import ConfigurationError, KeyLoadError, KeyStoreError
from .ringstate import KeySlot, RingSnapshot, RolloverTimings, SlotState

SCHEMA_VERSION = 1

KeyEntry = Callable[[KeySlot, SigningKey], Mapping[str, Any]]
"""The fields naming a slot's key in the state (e.g. ``key_file``), given the slot."""
KeyLoader = Callable[[Mapping[str, Any]], SigningKey | None]
"""The slot's key from its state entry, or ``None`` for a slot without one."""


def _parse_time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise KeyStoreError(f"{where}: invalid timestamp {value!r}") from None
    if moment.tzinfo is None:
        raise KeyStoreError(f"{where}: timestamp {value!r} has no time zone")
    return moment


def state_of(snapshot: RingSnapshot, key_entry: KeyEntry) -> dict[str, Any]:
    """The JSON-ready state of ``snapshot``; ``key_entry`` names each slot's key."""
    slots = []
    for slot in snapshot.slots:
        entry: dict[str, Any] = {
            "selector": slot.selector,
            "state": slot.state.value,
            "since": iso(slot.since),
            "published_at": iso(slot.published_at),
            "published_ttl": slot.published_ttl,
            "dual_sign_until": iso(slot.dual_sign_until),
            "fingerprint": None,
        }
        if slot.key is not None:
            entry["fingerprint"] = slot.key.fingerprint
            entry.update(key_entry(slot, slot.key))
        slots.append(entry)
    timings = snapshot.timings
    return {
        "schema": SCHEMA_VERSION,
        "algorithm": snapshot.algorithm.value,
        "key_host": snapshot.key_host,
        "generation": snapshot.generation,
        "timings": {
            "record_ttl": timings.record_ttl.total_seconds(),
            "negative_ttl": timings.negative_ttl.total_seconds(),
            "retention": timings.retention.total_seconds(),
            "dual_sign": timings.dual_sign.total_seconds(),
        },
        "slots": slots,
    }


def snapshot_of(state: object, where: str, load_key: KeyLoader) -> RingSnapshot:
    """
    The snapshot a stored state describes.

    Raises:
        KeyStoreError: The state is not a ring state of this schema, or is invalid
            (``where`` says which store and row or file).
        KeyLoadError: A key that ``load_key`` could not load.
    """
    if not isinstance(state, dict):
        raise KeyStoreError(f"{where}: the ring state is not a JSON object")
    if state.get("schema") != SCHEMA_VERSION:
        raise KeyStoreError(
            f"{where}: schema {state.get('schema')!r} is not {SCHEMA_VERSION}; "
            "upgrade oxdkim or migrate the ring"
        )
    try:
        timings = RolloverTimings(
            **{k: timedelta(seconds=float(v)) for k, v in state["timings"].items()}
        )
        slots = tuple(_slot(entry, where, load_key) for entry in state["slots"])
        return RingSnapshot(
            Algorithm(state["algorithm"]),
            slots,
            state.get("key_host"),
            timings,
            int(state["generation"]),
        )
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,  # a JSON value of the wrong kind (a list where an object goes)
        OverflowError,  # a duration too large for timedelta
        ConfigurationError,
    ) as exc:
        if isinstance(exc, KeyLoadError):
            raise
        raise KeyStoreError(f"{where}: invalid ring state ({exc})") from None


def _slot(entry: Mapping[str, Any], where: str, load_key: KeyLoader) -> KeySlot:
    key = load_key(entry)
    fingerprint = entry.get("fingerprint")
    if key is not None and fingerprint is not None and key.fingerprint != fingerprint:
        raise KeyStoreError(
            f"{where}: slot {entry.get('selector')!r} holds key {key.fingerprint}, "
            f"but the ring state names {fingerprint}"
        )
    return KeySlot(
        entry["selector"],
        key,
        SlotState(entry["state"]),
        _parse_time(entry.get("since"), where),
        _parse_time(entry.get("published_at"), where),
        entry.get("published_ttl"),
        _parse_time(entry.get("dual_sign_until"), where),
    )
