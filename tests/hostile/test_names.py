"""
Names that are not plain LDH host names never become DNS queries.

dnspython reads ``\\DDD`` escapes in names given as text: ``x\\046y.example.com`` is the
three labels ``x.y``, ``example``, ``com``. A ``d=`` or ``s=`` (or any name handed to a
resolver) with an escape, an ``@``, an empty label or another character outside letters,
digits and ``-`` (``_`` too, for ``_domainkey``-style names) is refused before any query.
"""

from __future__ import annotations

import pytest

from oxdkim import DkimReason, DkimResult, DnsPermError, Verifier
from oxdkim.resolvers import InMemoryZone, ZoneFileResolver

from .support import ALICE, ALICE_DOMAIN, NOW, brand_signer

MESSAGE = f"From: a@{ALICE_DOMAIN}\r\nSubject: names\r\n\r\nbody\r\n".encode()
[GOOD] = brand_signer().sign(MESSAGE, tenant=ALICE)

BAD_NAMES = [
    "x\\046y.example.com",
    "x\\.y.example.com",
    "a@b.example.com",
    "a..example.com",
    ".example.com",
    "ex ample.com",
    "ex\tample.com",
    "exa(mple.com",
    "ex;ample.com",
    'ex"ample.com',
    "ex\\065mple.com",
]


class Recording(InMemoryZone):
    """An in-memory zone that remembers every name it was asked."""

    def __init__(self) -> None:
        super().__init__({})
        self.asked: list[str] = []

    def txt(self, name: str):  # type: ignore[no-untyped-def]
        self.asked.append(name)
        return super().txt(name)


@pytest.mark.parametrize("bad", BAD_NAMES)
@pytest.mark.parametrize("tag", ["d", "s"])
def test_bad_d_or_s_is_refused_without_a_query(tag: str, bad: str):
    """A signature whose d= or s= is not a plain name: invalid-*, and no DNS query."""
    value = {"d": ALICE_DOMAIN, "s": "mail1"}[tag]
    header = GOOD.header.replace(f"{tag}={value};".encode(), f"{tag}={bad};".encode(), 1)
    assert header != GOOD.header
    resolver = Recording()
    [verdict] = Verifier(resolver, clock=lambda: NOW).verify(header + MESSAGE)
    expected = DkimReason.INVALID_DOMAIN if tag == "d" else DkimReason.INVALID_SELECTOR
    if ";" in bad:  # ends the tag early: the rest is no tag list
        expected = DkimReason.MALFORMED_SIGNATURE
    assert (DkimResult.PERMERROR, expected) == (verdict.result, verdict.reason)
    assert [] == resolver.asked


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_resolvers_refuse_names_that_are_not_plain(bad: str):
    """Every resolver refuses such a name itself (DnsPermError), whoever asks."""
    zone = ZoneFileResolver.from_text('$ORIGIN example.com.\nx 300 IN TXT "v=DKIM1; p="\n')
    for resolver in (InMemoryZone({"x.y.example.com": "v=DKIM1; p="}), zone):
        with pytest.raises(DnsPermError):
            resolver.txt(bad)


def test_underscore_labels_and_wildcards_still_work():
    """``_domainkey`` and ``_dmarc`` names, and a zone's ``*`` owner, are plain enough."""
    zone = ZoneFileResolver.from_text(
        '$ORIGIN example.com.\n_dmarc 300 IN TXT "v=DMARC1; p=none"\n*.w 300 IN TXT "v=spf1"\n'
    )
    assert zone.txt("_dmarc.example.com").records
    assert zone.txt("a.w.example.com").records


@pytest.mark.parametrize("selector", ["sel_1", "_sel", "sel-", "-sel", "a..b"])
def test_a_selector_is_ldh_for_signing_too(selector: str):
    """The signer's selectors follow the verifier's rule (RFC 6376 §3.1: sub-domain)."""
    from oxdkim import ConfigurationError, DefaultGenericPolicy, SigningKey

    with pytest.raises(ConfigurationError, match="selector"):
        DefaultGenericPolicy("dkim.example", selector, SigningKey.from_ed25519_seed(bytes(32)))
