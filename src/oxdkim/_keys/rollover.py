"""
The rollover steps as pure functions: ``(snapshot, now, ...) -> snapshot``.

Each step checks its precondition and raises :class:`~oxdkim.exceptions.KeyRingError`
with a reason (and, when waiting is all it takes, the time it becomes allowed). No step
does I/O: ``confirm`` is given the DNS answer, so the same logic serves sync and async
callers and is tested in simulated time.

A key's life: staged -> published (DNS serves it) -> active (signs) -> retiring (still
published for mail in flight) -> revoked (``p=`` empty) or replaced by a newly staged key.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import attrs

from .._base.answers import DnsStatus, TxtAnswer
from .._base.clock import iso
from .._dkim.crypto import SigningKey
from .._dkim.keyrecord import key_records, parse_key_record
from ..exceptions import KeyRingError, RecordSyntaxError, RolloverRefusal
from .ringstate import MAX_TTL, KeySlot, RingSnapshot, SlotState


def _refuse(
    message: str, reason: RolloverRefusal, not_before: datetime | None = None
) -> KeyRingError:
    return KeyRingError(message, reason=reason, not_before=not_before)


def activation_time(snapshot: RingSnapshot, slot: KeySlot) -> datetime | None:
    """
    When a published slot may start signing: confirmation plus the longest time a
    receiver may still hold an older answer (record TTL, at least as long as DNS showed,
    plus the negative-caching TTL).

    ``None`` for a key the ring was given as already published (``KeyRing.from_keys``
    without ``since``): the caller vouched that DNS serves it, so there is no wait.
    """
    if slot.published_at is None:
        return None
    timings = snapshot.timings
    ttl = max(timings.record_ttl, timedelta(seconds=slot.published_ttl or 0))
    return slot.published_at + ttl + timings.negative_ttl


def retention_end(snapshot: RingSnapshot, slot: KeySlot) -> datetime | None:
    """When a retiring slot's key may be revoked or replaced."""
    if slot.state is not SlotState.RETIRING or slot.since is None:
        return None
    return slot.since + snapshot.timings.retention


def default_stage_slot(snapshot: RingSnapshot) -> str:
    """The slot a new key goes to: the one that is not active."""
    for slot in snapshot.slots:
        if slot.state is not SlotState.ACTIVE:
            return slot.selector
    raise AssertionError("a ring has at most one active slot")  # pragma: no cover


def stage(
    snapshot: RingSnapshot,
    selector: str,
    key: SigningKey,
    now: datetime,
    *,
    replace: bool = False,
) -> RingSnapshot:
    """
    Put a new key in ``selector``'s slot; DNS must publish it before it can sign.

    Allowed into an empty or revoked slot, or over a retiring key whose retention has
    passed. Over a staged or published key (one an operator may already have put in
    DNS) only with ``replace``. Never over the active key, and never over a retiring key
    that mail in flight may still need.
    """
    slot = snapshot.slot(selector)
    if key.algorithm is not snapshot.algorithm:
        raise _refuse(
            f"the ring signs with {snapshot.algorithm.value}; the new key is {key.algorithm.value}",
            RolloverRefusal.WRONG_ALGORITHM,
        )
    if slot.state is SlotState.ACTIVE:
        raise _refuse(
            f"{selector} is the active slot; stage the new key in "
            f"{snapshot.other(selector).selector}",
            RolloverRefusal.SLOT_BUSY,
        )
    if slot.state is SlotState.RETIRING:
        end = retention_end(snapshot, slot)
        if end is not None and now < end:
            raise _refuse(
                f"{selector} holds a retiring key that mail in flight may still need; "
                f"it can be replaced from {end.isoformat()}",
                RolloverRefusal.RETENTION,
                end,
            )
    if slot.state in (SlotState.STAGED, SlotState.PUBLISHED) and not replace:
        fingerprint = slot.key.fingerprint if slot.key is not None else "-"
        raise _refuse(
            f"{selector} holds a {slot.state.value} key ({fingerprint}) that DNS "
            "may already serve; replace it only on purpose (replace=True, or --replace)",
            RolloverRefusal.WOULD_REPLACE,
        )
    return snapshot.replace(KeySlot(slot.selector, key, SlotState.STAGED, now))


def _served_problem(slot: KeySlot, record: bytes) -> str | None:
    """
    Why ``record`` does not serve ``slot``'s key to a verifier, or ``None`` when it does.

    The record is read with the verifier's own parser: a record that verifiers refuse
    (``v=`` not first, a missing or wrong ``k=``, a repeated tag, ``h=``/``s=`` that
    exclude DKIM's use) would make every signature fail once the key signs.
    """
    assert slot.key is not None
    try:
        parsed = parse_key_record(record)
    except RecordSyntaxError as exc:
        return f"a key record verifiers refuse ({exc})"
    if parsed.revoked:
        return "a revoked (empty p=) record"
    if parsed.key_type != slot.key.algorithm.key_type:
        return f"a k={parsed.key_type} record, not k={slot.key.algorithm.key_type}"
    if not parsed.allows_email:
        return f"a record for s={':'.join(parsed.services)}, not email"
    if parsed.hashes is not None and "sha256" not in parsed.hashes:
        return f"a record for h={':'.join(parsed.hashes)}, not sha256"
    if base64.b64decode(parsed.p) != base64.b64decode(slot.key.public_key_b64):
        return "a different key"
    return None


def check_served(slot: KeySlot, name: str, answer: TxtAnswer) -> None:
    """
    Raise unless ``answer`` (the TXT at ``name``) serves exactly ``slot``'s key, in a
    record verifiers accept.

    Raises:
        KeyRingError: Missing, several records, a revoked record, another key, or a
            record verifiers would refuse.
    """
    assert slot.key is not None
    records = key_records(answer.records)  # what verifiers read: non-DKIM TXT skipped
    if answer.status is not DnsStatus.NOERROR or not records:
        raise _refuse(
            f"DNS has no key record at {name} ({answer.status.value}); publish "
            f"the TXT record for {slot.selector}, then confirm again",
            RolloverRefusal.DNS_MISSING,
        )
    if len(records) > 1:
        raise _refuse(
            f"DNS serves {len(records)} DKIM key records at {name}; verifiers need exactly one",
            RolloverRefusal.DNS_AMBIGUOUS,
        )
    problem = _served_problem(slot, records[0])
    if problem is not None:
        raise _refuse(
            f"DNS at {name} serves {problem}, not the key staged in {slot.selector} "
            f"(fingerprint {slot.key.fingerprint})",
            RolloverRefusal.DNS_MISMATCH,
        )


def confirm(
    snapshot: RingSnapshot, selector: str, name: str, answer: TxtAnswer, now: datetime
) -> RingSnapshot:
    """
    Record that DNS serves ``selector``'s staged key, as seen in ``answer`` for ``name``.

    Confirming an already published slot re-checks DNS and keeps the first confirmation
    time (the wait for caches started then).
    """
    slot = snapshot.slot(selector)
    if slot.state not in (SlotState.STAGED, SlotState.PUBLISHED):
        raise _refuse(
            f"{selector} is {slot.state.value}; only a staged key is confirmed",
            RolloverRefusal.NOT_STAGED,
        )
    check_served(slot, name, answer)
    first = slot.published_at if slot.state is SlotState.PUBLISHED else now
    ttl = min(max(answer.ttl or 0, slot.published_ttl or 0), MAX_TTL) or None
    return snapshot.replace(
        attrs.evolve(
            slot,
            state=SlotState.PUBLISHED,
            since=slot.since if slot.state is SlotState.PUBLISHED else now,
            published_at=first,
            published_ttl=ttl,
        )
    )


def activate(snapshot: RingSnapshot, selector: str, now: datetime) -> RingSnapshot:
    """
    Make ``selector`` the signing slot; the previously active slot starts retiring.

    Allowed only for a published key, once every receiver's cache has had time to learn
    it (:func:`activation_time`). The swap is one snapshot: there is never a moment
    with no active key or two.
    """
    slot = snapshot.slot(selector)
    if slot.state is SlotState.ACTIVE:
        raise _refuse(f"{selector} is already active", RolloverRefusal.ALREADY_ACTIVE)
    if slot.state is not SlotState.PUBLISHED:
        hint = "; confirm DNS publication first" if slot.state is SlotState.STAGED else ""
        raise _refuse(
            f"{selector} is {slot.state.value}, not published{hint}",
            RolloverRefusal.NOT_PUBLISHED,
        )
    ready = activation_time(snapshot, slot)
    if ready is not None and now < ready:
        raise _refuse(
            f"{selector} was confirmed in DNS at {_when(slot.published_at)}; receivers "
            f"may cache older answers until {_when(ready)}",
            RolloverRefusal.CACHE_WAIT,
            ready,
        )
    updated = snapshot
    if snapshot.has_active:
        grace = snapshot.timings.dual_sign
        updated = updated.replace(
            attrs.evolve(
                snapshot.active,
                state=SlotState.RETIRING,
                since=now,
                dual_sign_until=now + grace if grace > timedelta(0) else None,
            )
        )
    return updated.replace(attrs.evolve(slot, state=SlotState.ACTIVE, since=now))


def retire(snapshot: RingSnapshot, selector: str, now: datetime) -> RingSnapshot:
    """
    Stop signing with ``selector``'s key.

    For the active slot this is the activation of the other slot (with all its checks);
    for a retiring slot that is still dual-signing, it ends the grace window now.
    """
    slot = snapshot.slot(selector)
    if slot.state is SlotState.ACTIVE:
        return activate(snapshot, snapshot.other(selector).selector, now)
    if slot.state is SlotState.RETIRING and slot.dual_sign_until and now < slot.dual_sign_until:
        return snapshot.replace(attrs.evolve(slot, dual_sign_until=now))
    raise _refuse(f"{selector} is {slot.state.value} and not signing", RolloverRefusal.NOT_SIGNING)


def revoke(
    snapshot: RingSnapshot, selector: str, now: datetime, *, force: bool = False
) -> RingSnapshot:
    """
    Revoke ``selector``'s key: DNS then publishes an empty ``p=`` and the key is dropped.

    A retiring key only after its retention window (``force`` skips the wait, for a
    compromised key); a key that never signed at any time; the active key never.
    """
    slot = snapshot.slot(selector)
    if slot.state is SlotState.ACTIVE:
        raise _refuse(
            f"{selector} is the active key; activate {snapshot.other(selector).selector} first",
            RolloverRefusal.NO_ACTIVE_LEFT,
        )
    if slot.state in (SlotState.EMPTY, SlotState.REVOKED):
        raise _refuse(f"{selector} holds no key to revoke", RolloverRefusal.NOTHING_TO_REVOKE)
    end = retention_end(snapshot, slot)
    if end is not None and now < end and not force:
        raise _refuse(
            f"{selector} stopped signing at {_when(slot.since)}; "
            f"mail in flight may need it until {end.isoformat()}",
            RolloverRefusal.RETENTION,
            end,
        )
    return snapshot.replace(KeySlot(slot.selector, None, SlotState.REVOKED, now))


@attrs.frozen
class SlotStatus:
    """What a slot is doing and what its next step waits for."""

    selector: str
    state: SlotState
    since: datetime | None
    fingerprint: str | None
    next_step: str
    ready_at: datetime | None
    detail: str


def status(snapshot: RingSnapshot, now: datetime) -> tuple[SlotStatus, ...]:
    """Each slot's state, since when, and what its next step is waiting for."""
    result = []
    for slot in snapshot.slots:
        fingerprint = slot.key.fingerprint if slot.key else None
        ready: datetime | None = None
        if slot.state in (SlotState.EMPTY, SlotState.REVOKED):
            step, detail = "stage", "ready: stage a new key here when rotating"
        elif slot.state is SlotState.STAGED:
            step = "confirm"
            detail = "publish this slot's TXT record at the key host, then confirm"
        elif slot.state is SlotState.PUBLISHED:
            step, ready = "activate", activation_time(snapshot, slot)
            detail = _wait_text(now, ready, "receivers' caches to expire")
        elif slot.state is SlotState.ACTIVE:
            step, detail = "-", "signs new mail; rotate by staging a key in the other slot"
        else:
            step, ready = "revoke", retention_end(snapshot, slot)
            detail = _wait_text(now, ready, "mail in flight (retention)")
            if slot.dual_sign_until and now < slot.dual_sign_until:
                detail += f"; dual-signing until {slot.dual_sign_until.isoformat()}"
        result.append(
            SlotStatus(slot.selector, slot.state, slot.since, fingerprint, step, ready, detail)
        )
    return tuple(result)


def _wait_text(now: datetime, ready: datetime | None, what: str) -> str:
    if ready is None or now >= ready:
        return "ready now"
    return f"waiting for {what} until {ready.isoformat()}"


def _when(moment: datetime | None) -> str:
    return iso(moment) or "an unknown time"
