"""The fixtures other projects use, used here so they keep working."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oxdkim import DmarcAlignment, KeyRing, Signer, SigningKey, SpfCheck, Verifier
from oxdkim.resolvers import InMemoryZone
from oxdkim.testing import FixedClock, TestBrand, make_message, test_key


def test_the_plugin_fixtures_sign_and_verify(
    oxdkim_signer: Signer,
    oxdkim_verifier: Verifier,
    oxdkim_message: Callable[..., bytes],
    oxdkim_zone: InMemoryZone,
    oxdkim_ring: KeyRing,
) -> None:
    """Aligned mail from the brand's fixtures verifies against the brand's zone."""
    message = oxdkim_message("Ann <ann@acme.example>")
    [result] = oxdkim_signer.sign(message, tenant="acme")
    assert ("acme.example", "mail1") == (result.domain, result.selector)
    [verified] = oxdkim_verifier.verify(result.header + message)
    assert verified.passed
    assert oxdkim_zone.txt("mail1._domainkey.acme.example").exists
    assert "mail1" == oxdkim_ring.snapshot().active.selector


def test_the_brand_publishes_after_a_rollover(
    oxdkim_brand: TestBrand, oxdkim_clock: FixedClock
) -> None:
    """publish() makes the zone serve the ring's new records; the verifier sees them."""
    verifier = oxdkim_brand.verifier()
    new = test_key(seed=99)
    oxdkim_brand.ring.revoke("mail2")
    oxdkim_brand.ring.stage(new)
    oxdkim_brand.publish()
    oxdkim_brand.ring.confirm("mail2", oxdkim_brand.zone)
    oxdkim_clock.advance(hours=3)
    oxdkim_brand.ring.activate("mail2")
    message = make_message("x@globex.example")
    [result] = oxdkim_brand.signer().sign(message, tenant="globex")
    assert "mail2" == result.selector
    assert verifier.verify(result.header + message)[0].passed


def test_dmarc_with_the_brand(oxdkim_brand: TestBrand) -> None:
    """The brand's zone carries the DMARC record the fixture promises (acme: p=reject)."""
    alignment = DmarcAlignment(oxdkim_brand.zone)
    result = alignment.evaluate(
        "acme.example", dkim=["dkim.brandmail.example"], spf=SpfCheck("pass", "bounce.example")
    )
    assert ("fail", "reject") == (result.verdict.value, result.disposition.value)


def test_test_keys_are_deterministic() -> None:
    """The same seed gives the same Ed25519 key; different seeds differ."""
    assert test_key(seed=1).same_key_as(test_key(seed=1))
    assert not test_key(seed=1).same_key_as(test_key(seed=2))
    assert isinstance(test_key("rsa-sha256"), SigningKey)
    assert test_key("rsa-sha256") is test_key("rsa-sha256")


def test_messages_in_both_line_endings() -> None:
    """make_message builds CRLF or LF messages with the requested headers."""
    crlf = make_message(headers=[("List-Id", "<x.example>")], body="a\r\nb\r\n")
    lf = make_message(headers=[("List-Id", "<x.example>")], body="a\r\nb\r\n", linesep=b"\n")
    assert b"List-Id: <x.example>\r\n" in crlf
    assert crlf.replace(b"\r\n", b"\n") == lf


def test_a_brand_with_a_broken_delegation() -> None:
    """delegated= leaves a domain without CNAMEs: its aligned mail does not verify."""
    brand = TestBrand.build(delegated=["acme.example"])
    message = make_message("x@globex.example")
    [result] = brand.signer().sign(message, tenant="globex")
    [verified] = brand.verifier().verify(result.header + message)
    assert "no-key" == verified.reason.value  # type: ignore[union-attr]


def test_the_clock_needs_a_time_zone() -> None:
    """A naive datetime is refused: oxdkim works in aware UTC time."""
    from datetime import datetime

    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2026, 1, 1))
