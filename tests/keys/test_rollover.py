"""The rollover state machine, walked in simulated time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oxdkim import DkimReason, KeyRing, KeyRingError, SigningKey, SlotState, Verifier
from oxdkim._keys.ringstate import KeySlot, RingSnapshot, RolloverTimings
from oxdkim._verify.dkimpy import dkimpy_verifies
from oxdkim.exceptions import ConfigurationError, NoActiveKeyError, RolloverRefusal
from oxdkim.resolvers import InMemoryZone

from .conftest import KEY_HOST, DnsOperator, SimClock, legacy_signer, message


def fresh_ring(clock: SimClock, key: SigningKey, **timings: timedelta) -> KeyRing:
    """A ring whose first key is staged in mail1, mail2 empty (what `ring init` makes)."""
    snapshot = RingSnapshot(
        key.algorithm,
        (KeySlot("mail1", key, SlotState.STAGED, clock.now), KeySlot("mail2")),
        KEY_HOST,
        RolloverTimings(**timings),
    )
    return KeyRing(snapshot, clock=clock)


def active_ring(clock: SimClock, keys: list[SigningKey], **options: object) -> KeyRing:
    """mail1 active since a day ago, mail2 holding a second key (published under KEY_HOST)."""
    return KeyRing.from_keys(
        {"mail1": keys[0], "mail2": keys[1]},
        active="mail1",
        since=clock.now - timedelta(days=1),
        key_host=KEY_HOST,
        **options,  # type: ignore[arg-type]
    )


def states(ring: KeyRing) -> dict[str, str]:
    return {slot.selector: slot.state.value for slot in ring.snapshot().slots}


class TestFullCycle:
    def test_mail_signed_at_every_stage_verifies_until_its_key_is_revoked(
        self, clock: SimClock, operator: DnsOperator, ed_keys: list[SigningKey]
    ) -> None:
        """Bootstrap, two full rotations: each message verifies while its key is published."""
        ring = fresh_ring(clock, ed_keys[0])
        signer = legacy_signer(ring, clock)
        signed: list[tuple[bytes, str, str]] = []  # (message, selector, key fingerprint)

        def sign_one(label: str) -> None:
            msg = message(label)
            result = signer.sign(msg, tenant="t1")
            assert 1 == len(result)
            signed.append((result[0].header + msg, result[0].selector, result[0].key_fingerprint))

        def check_all() -> None:
            """oxdkim's verifier and dkimpy agree; a revoked key is reported as such."""
            published = ring.snapshot()
            for msg, selector, fingerprint in signed:
                slot = published.slot(selector)
                live = slot.key is not None and slot.key.fingerprint == fingerprint
                assert live == dkimpy_verifies(msg, operator), (selector, states(ring))
                [result] = Verifier(operator, clock=clock).verify(msg)
                assert live == result.passed
                if slot.state is SlotState.REVOKED:
                    assert DkimReason.KEY_REVOKED == result.reason

        operator.publish(ring.snapshot())
        ring.confirm("mail1", operator)
        clock.advance(hours=2)
        ring.activate("mail1")
        operator.publish(ring.snapshot())
        sign_one("first key")
        check_all()

        for round_, key in enumerate(ed_keys[1:3], start=1):
            ring.stage(key)
            staged = next(s.selector for s in ring.snapshot().slots if s.key is key)
            sign_one(f"round {round_} staged")
            operator.publish(ring.snapshot())
            check_all()
            ring.confirm(staged, operator)
            sign_one(f"round {round_} published")
            clock.advance(hours=2, seconds=1)
            ring.activate(staged)
            operator.publish(ring.snapshot())
            sign_one(f"round {round_} active")
            check_all()
            retiring = ring.snapshot().other(staged).selector
            clock.advance(days=7, hours=1)
            ring.revoke(retiring)
            operator.publish(ring.snapshot())
            check_all()
            assert {staged: "active", retiring: "revoked"} == states(ring)

        assert any(not dkimpy_verifies(m, operator) for m, _, _ in signed)
        revoked = [Verifier(operator, clock=clock).verify(m)[0].reason for m, _, _ in signed]
        assert DkimReason.KEY_REVOKED in revoked
        assert dkimpy_verifies(signed[-1][0], operator)

    def test_revoked_record_has_an_empty_p(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """A revoked slot publishes v=DKIM1; k=...; p= (RFC 6376 §3.6.1)."""
        ring = KeyRing.from_keys(
            {"mail1": ed_keys[0], "mail2": ed_keys[1]}, active="mail1", since=clock.now
        )
        ring.revoke("mail2", now=clock.now)
        assert "v=DKIM1; k=ed25519; p=" == ring.txt_records()["mail2"]


class TestRefusals:
    def test_activating_an_unconfirmed_key_is_refused(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """A staged key never signs before DNS was confirmed to serve it."""
        ring = fresh_ring(clock, ed_keys[0])
        with pytest.raises(KeyRingError) as info:
            ring.activate("mail1")
        assert RolloverRefusal.NOT_PUBLISHED == info.value.reason
        assert "confirm" in str(info.value)
        with pytest.raises(NoActiveKeyError):
            ring.snapshot().active

    def test_confirm_refuses_a_dns_answer_with_another_key(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """DNS serving a different key than the staged one is a mismatch, not a publish."""
        ring = fresh_ring(clock, ed_keys[0])
        zone = InMemoryZone({f"mail1._domainkey.{KEY_HOST}": ed_keys[1].txt_record()})
        with pytest.raises(KeyRingError) as info:
            ring.confirm("mail1", zone)
        assert RolloverRefusal.DNS_MISMATCH == info.value.reason
        assert SlotState.STAGED == ring.snapshot().slot("mail1").state

    def test_confirm_refuses_missing_revoked_and_duplicate_records(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """No record, an empty p= and two records are each refused with their reason."""
        ring = fresh_ring(clock, ed_keys[0])
        name = f"mail1._domainkey.{KEY_HOST}"
        cases = [
            (InMemoryZone({}), RolloverRefusal.DNS_MISSING),
            (InMemoryZone({name: "v=DKIM1; k=ed25519; p="}), RolloverRefusal.DNS_MISMATCH),
            (
                InMemoryZone({name: [ed_keys[0].txt_record(), ed_keys[1].txt_record()]}),
                RolloverRefusal.DNS_AMBIGUOUS,
            ),
        ]
        for zone, reason in cases:
            with pytest.raises(KeyRingError) as info:
                ring.confirm("mail1", zone)
            assert reason == info.value.reason

    def test_confirm_follows_the_customer_cname(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """With via_domain, DNS is read through the customer's delegation, as a verifier does."""
        ring = fresh_ring(clock, ed_keys[0])
        zone = InMemoryZone(
            {f"mail1._domainkey.{KEY_HOST}": ed_keys[0].txt_record()},
            cname={"mail1._domainkey.customer.example": f"mail1._domainkey.{KEY_HOST}"},
        )
        ring.confirm("mail1", zone, via_domain="customer.example")
        assert SlotState.PUBLISHED == ring.snapshot().slot("mail1").state
        broken = InMemoryZone({f"mail1._domainkey.{KEY_HOST}": ed_keys[0].txt_record()})
        ring2 = fresh_ring(clock, ed_keys[0])
        with pytest.raises(KeyRingError) as info:
            ring2.confirm("mail1", broken, via_domain="customer.example")
        assert RolloverRefusal.DNS_MISSING == info.value.reason

    def test_activation_waits_for_ttl_and_negative_ttl(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """Activation is refused until record TTL + negative TTL after confirmation."""
        ring = fresh_ring(
            clock, ed_keys[0], record_ttl=timedelta(minutes=10), negative_ttl=timedelta(minutes=5)
        )
        zone = InMemoryZone({f"mail1._domainkey.{KEY_HOST}": ed_keys[0].txt_record()}, ttl=60)
        start = clock.now
        ring.confirm("mail1", zone)
        clock.advance(minutes=14, seconds=59)
        with pytest.raises(KeyRingError) as info:
            ring.activate("mail1")
        assert RolloverRefusal.CACHE_WAIT == info.value.reason
        assert start + timedelta(minutes=15) == info.value.not_before
        clock.advance(seconds=1)
        ring.activate("mail1")
        assert "mail1" == ring.snapshot().active.selector

    def test_a_longer_ttl_seen_in_dns_extends_the_wait(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """If DNS shows a TTL longer than configured, activation waits for that one."""
        ring = fresh_ring(clock, ed_keys[0], record_ttl=timedelta(minutes=10))
        zone = InMemoryZone({f"mail1._domainkey.{KEY_HOST}": ed_keys[0].txt_record()}, ttl=86400)
        ring.confirm("mail1", zone)
        with pytest.raises(KeyRingError) as info:
            ring.activate("mail1", now=clock.now + timedelta(hours=2))
        assert clock.now + timedelta(days=1, hours=1) == info.value.not_before

    def test_revoking_inside_the_retention_window_is_refused(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """A retiring key stays published for mail in flight; force overrides."""
        ring = active_ring(clock, ed_keys)
        ring.activate("mail2", now=clock.now)
        with pytest.raises(KeyRingError) as info:
            ring.revoke("mail1", now=clock.now + timedelta(days=6, hours=23))
        assert RolloverRefusal.RETENTION == info.value.reason
        assert clock.now + timedelta(days=7) == info.value.not_before
        ring.revoke("mail1", force=True, now=clock.now + timedelta(days=1))
        assert SlotState.REVOKED == ring.snapshot().slot("mail1").state

    def test_staging_over_a_key_mail_may_need_is_refused(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """A selector is not reused for a new key while the old one may still be needed."""
        ring = active_ring(clock, ed_keys)
        with pytest.raises(KeyRingError) as busy:
            ring.stage(ed_keys[2], selector="mail1", now=clock.now)
        assert RolloverRefusal.SLOT_BUSY == busy.value.reason
        ring.activate("mail2", now=clock.now)
        with pytest.raises(KeyRingError) as retention:
            ring.stage(ed_keys[2], now=clock.now + timedelta(days=3))
        assert RolloverRefusal.RETENTION == retention.value.reason
        ring.stage(ed_keys[2], now=clock.now + timedelta(days=7))
        assert SlotState.STAGED == ring.snapshot().slot("mail1").state

    def test_the_active_key_cannot_be_revoked(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """No step leaves the ring without an active key."""
        ring = KeyRing.from_keys({"mail1": ed_keys[0], "mail2": ed_keys[1]}, active="mail1")
        with pytest.raises(KeyRingError) as info:
            ring.revoke("mail1", force=True, now=clock.now)
        assert RolloverRefusal.NO_ACTIVE_LEFT == info.value.reason
        assert "mail1" == ring.snapshot().active.selector

    def test_a_key_of_the_other_algorithm_is_refused(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """An Ed25519 ring takes only Ed25519 keys."""
        ring = KeyRing.from_keys({"mail1": ed_keys[0], "mail2": ed_keys[1]}, active="mail1")
        ring.revoke("mail2", now=clock.now)
        rsa = SigningKey.generate("rsa-sha256", bits=2048)
        with pytest.raises(KeyRingError) as info:
            ring.stage(rsa, now=clock.now)
        assert RolloverRefusal.WRONG_ALGORITHM == info.value.reason

    def test_no_key_signs_before_first_activation(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """An aligned policy refuses (with the reason) while the ring has no active key."""
        from oxdkim import SigningRefusedError

        ring = fresh_ring(clock, ed_keys[0])
        with pytest.raises(SigningRefusedError) as info:
            legacy_signer(ring, clock).sign(message(), tenant="t1")
        assert "no active key" in info.value.decision.reason


class TestDualSigning:
    def test_old_and_new_key_sign_during_the_grace_window(
        self, clock: SimClock, operator: DnsOperator, ed_keys: list[SigningKey]
    ) -> None:
        """With dual_sign set, both keys sign after activation until the window ends."""
        ring = active_ring(clock, ed_keys, timings=RolloverTimings(dual_sign=timedelta(hours=24)))
        ring.clock = clock
        signer = legacy_signer(ring, clock)
        assert ["mail1"] == [r.selector for r in signer.sign(message(), tenant="t1")]
        ring.activate("mail2")
        operator.publish(ring.snapshot())
        results = signer.sign(message("dual"), tenant="t1")
        assert ["mail2", "mail1"] == [r.selector for r in results]
        for result in results:
            assert dkimpy_verifies(result.header + message("dual"), operator)
        clock.advance(hours=24)
        assert ["mail2"] == [r.selector for r in signer.sign(message(), tenant="t1")]

    def test_retire_ends_dual_signing_early(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """`retire` on a dual-signing retiring slot stops it signing now."""
        ring = KeyRing.from_keys(
            {"mail1": ed_keys[0], "mail2": ed_keys[1]},
            active="mail1",
            since=clock.now - timedelta(days=1),
            timings=RolloverTimings(dual_sign=timedelta(hours=24)),
        )
        ring.activate("mail2", now=clock.now)
        assert 2 == len(ring.snapshot().signing_slots(clock.now))
        ring.retire("mail1", now=clock.now)
        assert 1 == len(ring.snapshot().signing_slots(clock.now))
        with pytest.raises(KeyRingError) as info:
            ring.retire("mail1", now=clock.now)
        assert RolloverRefusal.NOT_SIGNING == info.value.reason

    def test_rsa_and_ed25519_rings_side_by_side(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """A policy with an RSA ring and an Ed25519 ring makes one signature with each."""
        from oxdkim import Signer
        from oxdkim.policies import LegacyBrandPolicy

        rsa = [SigningKey.generate("rsa-sha256") for _ in range(2)]
        rsa_ring = KeyRing.from_keys({"rsa1": rsa[0], "rsa2": rsa[1]}, active="rsa1")
        ed_ring = KeyRing.from_keys({"ed1": ed_keys[0], "ed2": ed_keys[1]}, active="ed1")
        signer = Signer(LegacyBrandPolicy([rsa_ring, ed_ring], {"t1": ["customer.example"]}))
        results = signer.sign(message(), tenant="t1")
        assert [("rsa1", "rsa-sha256"), ("ed1", "ed25519-sha256")] == [
            (r.selector, r.algorithm.value) for r in results
        ]
        zone = InMemoryZone(
            {
                "rsa1._domainkey.customer.example": rsa[0].txt_record(),
                "ed1._domainkey.customer.example": ed_keys[0].txt_record(),
            }
        )
        for result in results:
            assert dkimpy_verifies(result.header + message(), zone)


class TestSnapshotInvariants:
    def test_two_active_slots_cannot_be_built(self, ed_keys: list[SigningKey]) -> None:
        """A snapshot with two active slots is a configuration error."""
        from oxdkim import Algorithm

        with pytest.raises(ConfigurationError):
            RingSnapshot(
                Algorithm.ED25519_SHA256,
                (
                    KeySlot("mail1", ed_keys[0], SlotState.ACTIVE),
                    KeySlot("mail2", ed_keys[1], SlotState.ACTIVE),
                ),
            )

    def test_status_says_what_each_slot_waits_for(
        self, clock: SimClock, ed_keys: list[SigningKey]
    ) -> None:
        """status() names the next step and when it becomes possible."""
        ring = fresh_ring(clock, ed_keys[0])
        zone = InMemoryZone({f"mail1._domainkey.{KEY_HOST}": ed_keys[0].txt_record()})
        assert ["confirm", "stage"] == [s.next_step for s in ring.status()]
        ring.confirm("mail1", zone)
        first = ring.status()[0]
        assert "activate" == first.next_step
        assert clock.now + timedelta(hours=2) == first.ready_at
        assert "waiting" in first.detail
