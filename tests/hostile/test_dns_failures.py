"""
DNS failures from a real server (Knot on 127.0.0.1), for the verifier and for the key
ring's confirm step: NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout, truncated answers.

A missing record is an answer (``permerror`` / a refused confirm); a failure to get an
answer is temporary (``temperror`` / DnsTempError with the slot left as it was); a
truncated UDP answer is fetched again over TCP. tests/dns covers the resolvers alone;
these cases check what the verifier and the key ring make of each answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from dnsserver import DnsServer, make_zone
from oxdkim import (
    AsyncVerifier,
    DefaultGenericPolicy,
    DkimReason,
    DkimResult,
    DnsTempError,
    KeyRing,
    KeyRingError,
    RolloverRefusal,
    Signer,
    SlotState,
    VerifyResult,
)
from oxdkim.resolvers import AsyncDnspythonResolver, DnspythonResolver

from .support import (
    ALICE_DOMAIN,
    BRAND_KEY_1,
    KEY_HOST,
    NOW,
    clock,
    measure,
    run_unchanged,
    seed_key,
    verifier,
    within,
)

pytestmark = pytest.mark.dnsserver

Factory = Callable[..., DnsServer]
KEY = BRAND_KEY_1
RECORD = KEY.txt_record()
BIG_RECORD = f"v=DKIM1; k=ed25519; n={'padding ' * 250}; p={KEY.public_key_b64}"
BROKEN, OUTSIDE = "broken.example", "outside.example"


def txt(value: str) -> str:
    """A TXT value as zone-file character-strings of at most 255 bytes."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


ZONES = {
    KEY_HOST: make_zone(KEY_HOST, f"mail1._domainkey TXT {txt(RECORD)}\n"),
    ALICE_DOMAIN: make_zone(
        ALICE_DOMAIN,
        f"mail1._domainkey CNAME mail1._domainkey.{KEY_HOST}.\n"
        "mail1._domainkey.nodata A 192.0.2.1\n"
        f"mail1._domainkey.big TXT {txt(BIG_RECORD)}\n"
        + "".join(f'mail1._domainkey.many TXT "v=DKIM1; n={i}{"x" * 200}; p="\n' for i in range(8)),
    ),
}
CASES = {
    # via domain: (verifier reason, confirm outcome)
    ALICE_DOMAIN: (None, None),
    f"nx.{ALICE_DOMAIN}": (DkimReason.NO_KEY, RolloverRefusal.DNS_MISSING),
    f"nodata.{ALICE_DOMAIN}": (DkimReason.NO_KEY, RolloverRefusal.DNS_MISSING),
    f"big.{ALICE_DOMAIN}": (None, None),
    f"many.{ALICE_DOMAIN}": (DkimReason.MULTIPLE_KEYS, RolloverRefusal.DNS_AMBIGUOUS),
    BROKEN: (DkimReason.DNS_TEMPORARY, DnsTempError),
    OUTSIDE: (DkimReason.DNS_TEMPORARY, DnsTempError),
}
IDS = {
    ALICE_DOMAIN: "answer-through-cname",
    f"nx.{ALICE_DOMAIN}": "nxdomain",
    f"nodata.{ALICE_DOMAIN}": "nodata",
    f"big.{ALICE_DOMAIN}": "truncated-then-tcp",
    f"many.{ALICE_DOMAIN}": "truncated-record-set",
    BROKEN: "servfail",
    OUTSIDE: "refused",
}


@pytest.fixture(scope="module")
def server(dns_server_factory: Factory) -> Iterator[DnsServer]:
    """Knot serving the key host and alice.example; broken.example answers SERVFAIL."""
    with dns_server_factory(ZONES, broken_zones=[BROKEN]) as srv:
        yield srv


@pytest.fixture
def stoppable(dns_server_factory: Factory) -> Iterator[DnsServer]:
    """A server of its own, which the test stops to get timeouts."""
    with dns_server_factory(ZONES) as srv:
        yield srv


def signed_for(domain: str) -> bytes:
    """A message signed as ``domain`` with selector mail1 and KEY."""
    raw = f"From: a@{ALICE_DOMAIN}\r\nSubject: dns\r\n\r\nbody\r\n".encode()
    signer = Signer(DefaultGenericPolicy(domain, "mail1", KEY), clock=clock)
    return signer.sign(raw)[0].header + raw


def staged_ring() -> KeyRing:
    """A ring whose mail1 slot holds KEY, staged; mail2 signs."""
    ring = KeyRing.from_keys(
        {"mail1": seed_key(20), "mail2": seed_key(21)}, active="mail2", key_host=KEY_HOST
    )
    ring.stage(KEY, selector="mail1", now=NOW, replace=True)
    return ring


def resolver(server: DnsServer, **options: object) -> DnspythonResolver:
    """A network resolver asking only ``server``; no EDNS, so answers over 512 bytes truncate."""
    settings: dict[str, object] = {"timeout": 1.0, "retries": 0, "edns": False, **options}
    return DnspythonResolver([server.nameserver], **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("domain", list(CASES), ids=list(IDS.values()))
def test_verifier_result_for_each_answer(server: DnsServer, domain: str):
    """Each DNS outcome gives its verdict: pass, permerror for no/several keys, temperror."""
    expected, _ = CASES[domain]
    [result] = run_unchanged(verifier(resolver(server)).verify, signed_for(domain)).results
    assert expected == result.reason, result.message
    assert (DkimResult.PASS if expected is None else expected.result) == result.result


@pytest.mark.parametrize("domain", list(CASES), ids=list(IDS.values()))
def test_confirm_for_each_answer(server: DnsServer, domain: str):
    """
    confirm publishes on a good answer (over TCP when UDP truncates), refuses a missing
    or ambiguous record, and raises DnsTempError on a failure, leaving the slot staged.
    """
    _, expected = CASES[domain]
    ring = staged_ring()
    via = None if domain == ALICE_DOMAIN else domain
    if expected is None:
        snapshot = ring.confirm("mail1", resolver(server), via_domain=via, now=NOW)
        assert SlotState.PUBLISHED == snapshot.slot("mail1").state
        return
    if expected is DnsTempError:
        with pytest.raises(DnsTempError):
            ring.confirm("mail1", resolver(server), via_domain=via, now=NOW)
    else:
        with pytest.raises(KeyRingError) as caught:
            ring.confirm("mail1", resolver(server), via_domain=via, now=NOW)
        assert expected == caught.value.reason
    assert SlotState.STAGED == ring.snapshot().slot("mail1").state


def test_truncated_answer_really_truncates_over_udp(server: DnsServer):
    """The big record does not fit 512 bytes: the pass above came over TCP."""
    import dns.flags
    import dns.message
    import dns.query

    query = dns.message.make_query(f"mail1._domainkey.big.{ALICE_DOMAIN}", "TXT")
    response = dns.query.udp(query, server.host, port=server.port, timeout=2, ignore_trailing=True)
    assert response.flags & dns.flags.TC


def test_timeout_is_temperror_within_budget(stoppable: DnsServer):
    """
    A server that does not answer (stopped): temperror, never fail or none, after about
    the resolver's timeout (0.3 s here; budget 5 s).
    """
    net = resolver(stoppable, timeout=0.3)
    stoppable.stop()
    results, cost = measure(lambda: verifier(net).verify(signed_for(ALICE_DOMAIN)))
    [result] = results  # type: ignore[misc]
    assert (DkimResult.TEMPERROR, DkimReason.DNS_TEMPORARY) == (result.result, result.reason)
    assert within(cost, seconds=5, megabytes=16), cost


def test_timeout_during_confirm_leaves_the_slot_staged(stoppable: DnsServer):
    """confirm on a silent server raises DnsTempError; the key stays staged; a retry works."""
    net = resolver(stoppable, timeout=0.3)
    ring = staged_ring()
    stoppable.stop()
    with pytest.raises(DnsTempError):
        ring.confirm("mail1", net, now=NOW)
    assert SlotState.STAGED == ring.snapshot().slot("mail1").state
    stoppable.start()
    assert SlotState.PUBLISHED == ring.confirm("mail1", net, now=NOW).slot("mail1").state


def test_async_verifier_gives_the_same_verdicts(server: DnsServer):
    """The async verifier, asking the same server concurrently, gives the same results."""
    net = AsyncDnspythonResolver([server.nameserver], timeout=1.0, retries=0, edns=False)
    async_verifier = AsyncVerifier(net, clock=clock)

    async def all_cases() -> list[tuple[VerifyResult, ...]]:
        return list(await asyncio.gather(*(async_verifier.verify(signed_for(d)) for d in CASES)))

    results = asyncio.run(all_cases())
    assert [CASES[d][0] for d in CASES] == [r[0].reason for r in results]
