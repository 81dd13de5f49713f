"""
Property: any sequence of rollover steps, at any times and with any timings the API
accepts, round-trips through :class:`FileKeyStore`. A step is either accepted (and the
stored ring loads back equal) or refused with an oxdkim error (and nothing is written).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxdkim import (
    Algorithm,
    CnameAnswer,
    DnsStatus,
    FileKeyStore,
    KeyRing,
    KeySlot,
    OxDkimError,
    RingSnapshot,
    RolloverTimings,
    SigningKey,
    SlotState,
    TxtAnswer,
)
from oxdkim._base.clock import EARLIEST, LATEST
from oxdkim._keys.ringstate import MAX_WAIT

KEYS = [SigningKey.from_ed25519_seed(bytes([i]) * 32) for i in range(1, 7)]
SELECTORS = ("mail1", "mail2")
ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]

waits = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=MAX_WAIT),
    st.sampled_from([timedelta(0), MAX_WAIT, timedelta(microseconds=1), timedelta.max]),
    st.timedeltas(),  # mostly refused: negative, or longer than a century
)
naive_edge = [
    EARLIEST.replace(tzinfo=None),
    LATEST.replace(tzinfo=None) - timedelta(microseconds=1),
]
times = st.one_of(
    st.datetimes(
        min_value=datetime(1969, 12, 31),
        max_value=datetime(9000, 1, 1, 12),
        timezones=st.sampled_from(ZONES),
    ),
    st.sampled_from(naive_edge).map(lambda t: t.replace(tzinfo=UTC)),
    st.datetimes(min_value=datetime(1969, 12, 31), max_value=datetime(9000, 1, 1, 12)),  # naive
)
ttls = st.one_of(st.none(), st.integers(min_value=0, max_value=2**40))
steps = st.lists(
    st.tuples(
        st.sampled_from(["stage", "confirm", "activate", "retire", "revoke", "status"]),
        st.sampled_from(SELECTORS),
        times,
        st.integers(min_value=0, max_value=len(KEYS) - 1),
        st.booleans(),
        ttls,
    ),
    min_size=1,
    max_size=12,
)


class ServesStagedKey:
    """DNS that serves whatever key ``selector`` holds, with a chosen TTL."""

    def __init__(self, ring: KeyRing, selector: str, ttl: int | None) -> None:
        slot = ring.snapshot().slot(selector)
        self.record = slot.key.txt_record().encode() if slot.key is not None else None
        self.ttl = ttl

    def txt(self, name: str) -> TxtAnswer:
        if self.record is None:
            return TxtAnswer(name, DnsStatus.NXDOMAIN, ())
        return TxtAnswer(name, DnsStatus.NOERROR, (self.record,), self.ttl)

    def cname(self, name: str) -> CnameAnswer:
        return CnameAnswer(name, DnsStatus.NXDOMAIN)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    waits4=st.tuples(waits, waits, waits, waits),
    since=st.one_of(st.none(), times),
    sequence=steps,
)
def test_any_accepted_step_sequence_round_trips_through_the_store(
    waits4: tuple[timedelta, ...], since: datetime | None, sequence: list[tuple[object, ...]]
) -> None:
    """Accepted: loads back equal. Refused: an OxDkimError, and ring.json is untouched."""
    try:
        timings = RolloverTimings(*waits4)
    except OxDkimError:
        assert any(not timedelta(0) <= wait <= MAX_WAIT for wait in waits4)
        return
    try:
        first = KeyRing.from_keys(
            dict(zip(SELECTORS, KEYS[:2], strict=True)),
            active="mail1",
            since=since,
            key_host="keys.brand.example",
            timings=timings,
        )
    except OxDkimError:
        assert since is not None  # only a bad since is refused
        return
    with tempfile.TemporaryDirectory() as directory:
        store = FileKeyStore.create(Path(directory) / "ring", first.snapshot())
        ring = KeyRing.open(store)
        assert first.snapshot() == store.load()
        for step, selector, now, key_index, flag, ttl in sequence:
            assert isinstance(selector, str)
            assert isinstance(now, datetime)
            assert isinstance(key_index, int)
            before = store.state_path.read_bytes()
            try:
                if step == "stage":
                    ring.stage(KEYS[key_index], selector=selector, now=now, replace=bool(flag))
                elif step == "confirm":
                    dns = ServesStagedKey(ring, selector, ttl if isinstance(ttl, int) else None)
                    ring.confirm(selector, dns, now=now)
                elif step == "activate":
                    ring.activate(selector, now=now)
                elif step == "retire":
                    ring.retire(selector, now=now)
                elif step == "revoke":
                    ring.revoke(selector, now=now, force=bool(flag))
                else:
                    assert 2 == len(ring.status(now=now))
            except OxDkimError:
                assert before == store.state_path.read_bytes()
            loaded = FileKeyStore(store.directory).load()
            assert ring.snapshot() == loaded
            assert 2 == len(
                KeyRing.open(FileKeyStore(store.directory)).status(
                    now=LATEST - timedelta(microseconds=1)
                )
            )


slot_values = st.tuples(
    st.sampled_from(list(SlotState)),
    st.one_of(st.none(), times),
    st.one_of(st.none(), times),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=2**33), st.just(True)),
    st.one_of(st.none(), times, st.sampled_from([LATEST + MAX_WAIT - timedelta(microseconds=1)])),
    st.integers(min_value=0, max_value=len(KEYS) - 1),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=slot_values,
    second=slot_values,
    generation=st.one_of(st.integers(min_value=-2, max_value=2**64), st.just(2**63 - 1)),
    key_host=st.one_of(st.none(), st.just("keys.brand.example"), st.text(max_size=30)),
)
def test_any_snapshot_the_types_accept_round_trips_through_the_store(
    first: tuple[Any, ...], second: tuple[Any, ...], generation: int, key_host: str | None
) -> None:
    """Built directly from any values: refused (OxDkimError) or saved and loaded back equal."""
    try:
        slots = tuple(
            KeySlot(
                selector,
                None if state in (SlotState.EMPTY, SlotState.REVOKED) else KEYS[index],
                state,
                since,
                published,
                ttl,
                until,
            )
            for selector, (state, since, published, ttl, until, index) in zip(
                SELECTORS, (first, second), strict=True
            )
        )
        snapshot = RingSnapshot(Algorithm.ED25519_SHA256, slots, key_host, generation=generation)
    except OxDkimError:
        return
    with tempfile.TemporaryDirectory() as directory:
        store = FileKeyStore.create(Path(directory) / "ring", snapshot)
        assert snapshot == store.load()
        ring = KeyRing.open(store)
        assert 2 == len(ring.status(now=LATEST - timedelta(microseconds=1)))
        assert 2 == len(ring.status(now=EARLIEST))
