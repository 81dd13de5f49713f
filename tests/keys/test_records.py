"""The DNS records a brand publishes: zone file and JSON, and that they really work."""

from __future__ import annotations

import json

import dns.zone
import pytest

from oxdkim import KeyRing, Signer, SigningKey
from oxdkim._keys.records import brand_records, records_json, render_zone, split_txt
from oxdkim._verify.dkimpy import dkimpy_verifies
from oxdkim.exceptions import ConfigurationError
from oxdkim.policies import DefaultGenericPolicy, LegacyBrandPolicy
from oxdkim.resolvers import ZoneFileResolver

from .conftest import KEY_HOST, message

CUSTOMERS = ["alpha.example", "beta.example"]


@pytest.fixture(scope="module")
def brand() -> tuple[KeyRing, SigningKey]:
    ring = KeyRing.generate("rsa-sha256", bits=4096, key_host=KEY_HOST)
    return ring, SigningKey.generate("rsa-sha256")


def test_rendered_zone_parses_and_verifies_both_modes(brand: tuple[KeyRing, SigningKey]) -> None:
    """dnspython loads the rendered zone; aligned and generic signatures verify through it."""
    ring, generic_key = brand
    records = brand_records(
        ring=ring.snapshot(),
        generic=("dkim.brand.example", "gen1", generic_key),
        legacy_domains=CUSTOMERS,
    )
    text = render_zone(records, header="test")
    zone = dns.zone.from_text("$ORIGIN .\n" + text, relativize=False, check_origin=False)
    assert 2 * len(CUSTOMERS) == sum(1 for _ in zone.iterate_rdatas("CNAME"))
    resolver = ZoneFileResolver(zone)
    generic = DefaultGenericPolicy("dkim.brand.example", "gen1", generic_key)
    aligned = Signer(LegacyBrandPolicy(ring, {"t": CUSTOMERS}))
    for domain in CUSTOMERS:
        msg = message(sender=f"x@{domain}")
        result = aligned.sign(msg, tenant="t")[0]
        assert domain == result.domain
        assert dkimpy_verifies(result.header + msg, resolver)
    msg = message(sender="x@elsewhere.example")
    assert dkimpy_verifies(Signer(generic).signed_message(msg), resolver)


def test_txt_strings_stay_within_255_bytes(brand: tuple[KeyRing, SigningKey]) -> None:
    """A 4096-bit key record is split into character-strings of at most 255 bytes."""
    ring, _ = brand
    value = ring.txt_records()["mail1"]
    strings = split_txt(value)
    assert value == "".join(strings)
    assert 1 < len(strings)
    assert all(len(s) <= 255 for s in strings)


def test_json_lists_every_record_with_its_strings(brand: tuple[KeyRing, SigningKey]) -> None:
    """The JSON form carries name, type, TTL, value and, for TXT, the split strings."""
    ring, _ = brand
    data = json.loads(
        records_json(brand_records(ring=ring.snapshot(), legacy_domains=["a.example"]))
    )
    assert ["TXT", "TXT", "CNAME", "CNAME"] == [r["type"] for r in data]
    assert "mail1._domainkey.a.example" == data[2]["name"]
    assert "mail1._domainkey.keys.brand.example" == data[2]["value"]
    assert data[0]["value"] == "".join(data[0]["strings"])


def test_revoked_slot_is_rendered_with_empty_p(brand: tuple[KeyRing, SigningKey]) -> None:
    """After revocation the key host serves v=DKIM1; k=rsa; p= for that slot."""
    ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST)
    ring.revoke("mail2")
    text = render_zone(brand_records(ring=ring.snapshot()))
    assert 'mail2._domainkey.keys.brand.example.\t3600\tIN\tTXT\t"v=DKIM1; k=ed25519; p="' in text


def test_legacy_domains_need_a_ring() -> None:
    """Customer CNAMEs without a ring to point at are a configuration error."""
    with pytest.raises(ConfigurationError):
        brand_records(legacy_domains=["a.example"])
