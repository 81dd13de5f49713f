"""
Hostile and broken key records, as a verifier and as the key ring's confirm step see them.

The two must agree: a record the verifier refuses must never let ``KeyRing.confirm``
mark a key published, or the key would sign mail that every receiver rejects. Each
record is served through the delegation CNAME of a tenant domain, the way aligned brand
signing publishes keys. The parser's own table is tests/dkim/test_keyrecord.py.
"""

from __future__ import annotations

import base64
import itertools

import pytest

from oxdkim import (
    DkimReason,
    DkimResult,
    DnsPermError,
    KeyRing,
    KeyRingError,
    RolloverRefusal,
    SlotState,
)
from oxdkim.resolvers import InMemoryZone

from .support import (
    ALICE,
    ALICE_DOMAIN,
    BRAND_KEY_1,
    BRAND_KEY_2,
    KEY_HOST,
    NOW,
    brand_signer,
    run_unchanged,
    seed_key,
    verifier,
)

KEY = BRAND_KEY_1
P = KEY.public_key_b64
SPKI = base64.b64encode(bytes.fromhex("302a300506032b6570032100") + base64.b64decode(P)).decode(
    "ascii"
)
KEY_NAME = f"mail1._domainkey.{KEY_HOST}"
SIGNED = b"".join(
    [
        brand_signer()
        .sign(f"From: a@{ALICE_DOMAIN}\r\nSubject: k\r\n\r\nbody\r\n".encode(), tenant=ALICE)[0]
        .header,
        f"From: a@{ALICE_DOMAIN}\r\nSubject: k\r\n\r\nbody\r\n".encode(),
    ]
)
OK, REVOKED, MALFORMED = None, DkimReason.KEY_REVOKED, DkimReason.MALFORMED_KEY
OTHER_P = seed_key(9).public_key_b64
R = DkimReason
MISMATCH = RolloverRefusal.DNS_MISMATCH
MISSING = RolloverRefusal.DNS_MISSING

# (record as TXT character-strings, verifier reason or None for pass, confirm refusal or None)
CASES = [
    pytest.param((f"v=DKIM1; k=ed25519; p={P}",), OK, None, id="plain"),
    pytest.param((f"v=DKIM1; k=ed25519; p={P[:10]}", P[10:]), OK, None, id="split-inside-p"),
    pytest.param(("v=DKIM1; k=ed2", f"5519; p={P}"), OK, None, id="split-inside-a-value"),
    pytest.param(("v=DK", "IM1; k=ed25519; ", "p", f"={P}"), OK, None, id="split-everywhere"),
    pytest.param((f"v=DKIM1; k=ed25519; p={P[:8]} {P[8:]}\t",), OK, None, id="spaces-in-p"),
    pytest.param((f"v=DKIM1;k=ed25519;p={P};",), OK, None, id="no-spaces-final-semicolon"),
    pytest.param((f"v=DKIM1; k=ed25519; zz=unknown; x_1=y; p={P}",), OK, None, id="unknown-tags"),
    pytest.param((f"v=DKIM1; k=ed25519; n={'note ' * 400}; p={P}",), OK, None, id="long-note"),
    pytest.param((f"v=DKIM1; k=ed25519; t=y; p={P}",), OK, None, id="testing-flag"),
    pytest.param((f"k=ed25519; p={P}",), OK, None, id="no-version"),
    pytest.param(("v=DKIM1; k=ed25519; p=",), REVOKED, MISMATCH, id="empty-p"),
    pytest.param(("v=DKIM1; k=ed25519; p= ",), REVOKED, MISMATCH, id="blank-p"),
    pytest.param((f"v=DKIM1; k=ed25519; p={SPKI}",), MALFORMED, MISMATCH, id="spki-not-raw"),
    pytest.param(("v=DKIM1; k=ed25519; p=!!*!!",), MALFORMED, MISMATCH, id="garbage-base64"),
    pytest.param((f"v=DKIM1; k=ed25519; p={P[:-1]}",), MALFORMED, MISMATCH, id="no-padding"),
    pytest.param((f"v=DKIM1; k=ed25519; p={P[:-8]}",), MALFORMED, MISMATCH, id="truncated-key"),
    pytest.param((f"v=DKIM1; k=ed25519; p={OTHER_P}",), R.BAD_SIGNATURE, MISMATCH, id="other-key"),
    pytest.param((f"k=ed25519; v=DKIM1; p={P}",), MALFORMED, MISMATCH, id="version-not-first"),
    pytest.param((f"v=DKIM2; k=ed25519; p={P}",), R.NO_KEY, MISSING, id="version-2-discarded"),
    pytest.param(("v=spf1 -all",), R.NO_KEY, MISSING, id="only-spf"),
    pytest.param((f"v=DKIM1; p={P}",), MALFORMED, MISMATCH, id="k-missing-defaults-to-rsa"),
    pytest.param((f"v=DKIM1; k=rsa; p={P}",), MALFORMED, MISMATCH, id="k-rsa-with-ed25519-key"),
    pytest.param((f"v=DKIM1; k=ed448; p={P}",), R.KEY_TYPE_MISMATCH, MISMATCH, id="unknown-k"),
    pytest.param((f"v=DKIM1; k=ed25519; p={P}; p={P}",), MALFORMED, MISMATCH, id="p-twice"),
    pytest.param((f"v=DKIM1; k=ed25519; h=sha1; p={P}",), R.KEY_HASH_MISMATCH, MISMATCH, id="h-sha1"),  # noqa: E501
    pytest.param((f"v=DKIM1; k=ed25519; s=tlsrpt; p={P}",), R.KEY_SERVICE_MISMATCH, MISMATCH, id="s-tls"),  # noqa: E501
    pytest.param((f"v=DKIM1; k=ed25519;; p={P}",), MALFORMED, MISMATCH, id="empty-tag"),
    pytest.param(("v=DKIM1; k=ed25519",), MALFORMED, MISMATCH, id="no-p"),
    pytest.param((f"v=DKIM1; k=ed25519; p={P}\x00",), MALFORMED, MISMATCH, id="nul-byte"),
    pytest.param((f"v=DKIM1; k=ed25519; n=caf\u00e9; p={P}",), MALFORMED, MISMATCH, id="non-ascii"),
    pytest.param(("\x01" * 2000,), MALFORMED, MISMATCH, id="binary-garbage"),
]  # fmt: skip


def zone_serving(*records: tuple[str, ...]) -> InMemoryZone:
    """DNS where alice.example delegates mail1 to the key host, which serves ``records``."""
    return InMemoryZone(
        {KEY_NAME: [strings[0] if len(strings) == 1 else strings for strings in records]},
        cname={f"mail1._domainkey.{ALICE_DOMAIN}": KEY_NAME},
    )


def staged_ring() -> KeyRing:
    """A ring at the key host whose mail1 slot holds KEY, staged (mail2 signs)."""
    ring = KeyRing.from_keys(
        {"mail1": BRAND_KEY_2, "mail2": seed_key(8)}, active="mail2", key_host=KEY_HOST
    )
    ring.stage(KEY, selector="mail1", now=NOW, replace=True)
    return ring


@pytest.mark.parametrize(("strings", "reason", "refusal"), CASES)
def test_verifier_reads_the_record(
    strings: tuple[str, ...], reason: DkimReason | None, refusal: RolloverRefusal | None
):
    """The verifier passes a good record and names what is wrong with a bad one."""
    [result] = run_unchanged(verifier(zone_serving(strings)).verify, SIGNED).results
    assert reason == result.reason, result.message
    assert (DkimResult.PASS if reason is None else reason.result) == result.result


@pytest.mark.parametrize(("strings", "reason", "refusal"), CASES)
def test_confirm_agrees_with_the_verifier(
    strings: tuple[str, ...], reason: DkimReason | None, refusal: RolloverRefusal | None
):
    """
    ``KeyRing.confirm`` marks the key published exactly when verifiers would pass it,
    and otherwise refuses with a reason, leaving the slot staged.
    """
    ring = staged_ring()
    if refusal is None:
        snapshot = ring.confirm("mail1", zone_serving(strings), now=NOW)
        assert SlotState.PUBLISHED == snapshot.slot("mail1").state
        return
    with pytest.raises(KeyRingError) as caught:
        ring.confirm("mail1", zone_serving(strings), now=NOW)
    assert refusal == caught.value.reason
    assert SlotState.STAGED == ring.snapshot().slot("mail1").state


@pytest.mark.parametrize("via_domain", [None, ALICE_DOMAIN])
def test_two_records_at_the_key_name(via_domain: str | None):
    """Two TXT records: the verifier says multiple keys; confirm refuses as ambiguous."""
    zone = zone_serving((f"v=DKIM1; k=ed25519; p={P}",), ("v=DKIM1; k=ed25519; p=",))
    [result] = run_unchanged(verifier(zone).verify, SIGNED).results
    assert DkimReason.MULTIPLE_KEYS == result.reason
    with pytest.raises(KeyRingError) as caught:
        staged_ring().confirm("mail1", zone, via_domain=via_domain, now=NOW)
    assert RolloverRefusal.DNS_AMBIGUOUS == caught.value.reason


@pytest.mark.parametrize(
    "other",
    [
        ("v=spf1 -all",),
        ("v=spf1 include:_spf.brand.example ", "~all"),
        ("v=DMARC1; p=reject",),
        (" v = DKIM2; k=ed25519; p=" + OTHER_P,),
    ],
)
@pytest.mark.parametrize("first", [True, False])
def test_a_non_dkim_txt_beside_the_key_is_not_a_key_record(other: tuple[str, ...], first: bool):
    """
    A TXT whose v= is not DKIM1, beside the key (a wildcard's or a CNAME target's SPF):
    the key verifies and confirms, as at dkimpy, OpenDKIM and mailauth (RFC 6376 §3.6.1).
    """
    key = (f"v=DKIM1; k=ed25519; p={P}",)
    zone = zone_serving(*((other, key) if first else (key, other)))
    [result] = run_unchanged(verifier(zone).verify, SIGNED).results
    assert DkimResult.PASS == result.result, result.message
    snapshot = staged_ring().confirm("mail1", zone, via_domain=ALICE_DOMAIN, now=NOW)
    assert SlotState.PUBLISHED == snapshot.slot("mail1").state


def test_two_dkim_records_beside_spf_are_still_ambiguous():
    """Only several DKIM key records at once are ambiguous; SPF beside them changes nothing."""
    zone = zone_serving(
        (f"v=DKIM1; k=ed25519; p={P}",), ("v=spf1 -all",), (f"k=ed25519; p={OTHER_P}",)
    )
    [result] = run_unchanged(verifier(zone).verify, SIGNED).results
    assert DkimReason.MULTIPLE_KEYS == result.reason
    with pytest.raises(KeyRingError) as caught:
        staged_ring().confirm("mail1", zone, now=NOW)
    assert RolloverRefusal.DNS_AMBIGUOUS == caught.value.reason


def test_confirm_through_the_customer_cname():
    """Confirming via a tenant domain follows its CNAME exactly as the verifier does."""
    snapshot = staged_ring().confirm(
        "mail1", zone_serving((f"v=DKIM1; k=ed25519; p={P}",)), via_domain=ALICE_DOMAIN, now=NOW
    )
    assert SlotState.PUBLISHED == snapshot.slot("mail1").state


# -- CNAME loops and long chains --------------------------------------------------------


def chain_zone(hops: int, *, loop: bool = False) -> InMemoryZone:
    """alice.example's key name -> ``hops`` CNAMEs -> the key (or back to the start)."""
    names = [f"mail1._domainkey.{ALICE_DOMAIN}"] + [f"hop{i}.{KEY_HOST}" for i in range(hops)]
    cname = dict(itertools.pairwise(names))
    txt = {}
    if loop:
        cname[names[-1]] = names[0]
    else:
        txt[names[-1]] = f"v=DKIM1; k=ed25519; p={P}"
    return InMemoryZone(txt, cname=cname)


@pytest.mark.parametrize(
    ("hops", "loop", "reason"),
    [
        pytest.param(1, False, None, id="one-hop"),
        pytest.param(8, False, None, id="eight-hops-the-limit"),
        pytest.param(9, False, DkimReason.DNS_PERMANENT, id="nine-hops"),
        pytest.param(200, False, DkimReason.DNS_PERMANENT, id="two-hundred-hops"),
        pytest.param(1, True, DkimReason.DNS_PERMANENT, id="loop-of-two"),
        pytest.param(5, True, DkimReason.DNS_PERMANENT, id="loop-of-six"),
    ],
)
def test_cname_chains_for_the_verifier(hops: int, loop: bool, reason: DkimReason | None):
    """Up to 8 CNAMEs are followed; longer chains and loops are a permanent error."""
    zone = chain_zone(hops, loop=loop)
    [result] = run_unchanged(verifier(zone).verify, SIGNED).results
    assert reason == result.reason, result.message
    # run_unchanged verifies twice (bytes, bytearray); the hop limit bounds each run.
    assert sum(zone.queries.values()) <= 2 * 9


def test_self_referencing_cname_for_the_verifier():
    """A name that is a CNAME to itself is a loop: permerror, not a hang."""
    zone = InMemoryZone(
        cname={f"mail1._domainkey.{ALICE_DOMAIN}": f"mail1._domainkey.{ALICE_DOMAIN}"}
    )
    [result] = run_unchanged(verifier(zone).verify, SIGNED).results
    assert DkimReason.DNS_PERMANENT == result.reason


@pytest.mark.parametrize(("hops", "loop"), [(9, False), (1, True)])
def test_cname_chains_for_confirm(hops: int, loop: bool):
    """
    The confirm step meets the same loop or over-long chain as a DnsPermError and leaves
    the slot staged.
    """
    ring = staged_ring()
    with pytest.raises(DnsPermError):
        ring.confirm("mail1", chain_zone(hops, loop=loop), via_domain=ALICE_DOMAIN, now=NOW)
    assert SlotState.STAGED == ring.snapshot().slot("mail1").state
