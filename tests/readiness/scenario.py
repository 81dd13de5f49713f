"""
The preview's world: a provider (key host, generic key, SPF include, bounce domain) and
customer zones that each show one DMARC outcome, all rendered by oxdkim (``_records``).

The same zone texts are served by a real Knot server and loaded into memory, so one table
of expected predictions checks both. The ``test`` zone itself is served too, so that the
RFC 9989 tree walk's query for ``_dmarc.test`` gets NXDOMAIN, not REFUSED.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from dnsserver import make_zone
from oxdkim import FileKeyStore, KeyRing, SigningKey
from oxdkim._keys.records import DnsRecord, delegation_records, render_zone, ring_records

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEY_HOST = "keys.brandmail.test"
GENERIC_DOMAIN = "dkim.brandmail.test"
GENERIC_SELECTOR = "gen1"
SPF_INCLUDE = "_spf.brandmail.test"
PROVIDER_BOUNCE = "bounce.brandmail.test"
SELECTORS = ("mail1", "mail2")


def _key(n: int) -> SigningKey:
    return SigningKey.from_ed25519_seed(bytes([n + 40]) * 32)


KEY1, KEY2, GENERIC_KEY = _key(1), _key(2), _key(3)


def ring() -> KeyRing:
    """The brand's ring: mail1 signs, mail2 is published."""
    return KeyRing.from_keys(
        {"mail1": KEY1, "mail2": KEY2},
        active="mail1",
        since=T0 - timedelta(days=30),
        key_host=KEY_HOST,
    )


RING = ring().snapshot()


def txt(name: str, value: str) -> DnsRecord:
    return DnsRecord(name, "TXT", value)


def provider_zone() -> str:
    """brandmail.test: the ring's keys, the generic key, the SPF include, the bounce domain."""
    records = [
        *ring_records(RING),
        txt(f"{GENERIC_SELECTOR}._domainkey.{GENERIC_DOMAIN}", GENERIC_KEY.txt_record()),
        txt(SPF_INCLUDE, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"),
        txt(PROVIDER_BOUNCE, f"v=spf1 include:{SPF_INCLUDE} -all"),
        txt("_dmarc.brandmail.test", "v=DMARC1; p=reject"),
    ]
    return make_zone("brandmail.test", render_zone(records))


def delegation(domain: str) -> list[DnsRecord]:
    return delegation_records(domain, SELECTORS, KEY_HOST)


def spf_with_provider(domain: str) -> DnsRecord:
    return txt(f"bounce.{domain}", f"v=spf1 mx include:{SPF_INCLUDE} -all")


@attrs.frozen
class Customer:
    """One customer domain: its zone records, its mode, and what the preview must say."""

    domain: str
    records: tuple[DnsRecord, ...]
    verdict: str
    signing: str = "aligned"
    dkim: str = "pass"
    spf: str | None = "pass"
    spf_aligned: bool | None = True
    policy: str | None = "reject"
    disposition: str | None = "none"
    override: str | None = None
    summary: str = ""


CUSTOMERS = (
    Customer(
        "pass.test",
        (
            *delegation("pass.test"),
            txt("_dmarc.pass.test", "v=DMARC1; p=reject; rua=mailto:dmarc@pass.test"),
            spf_with_provider("pass.test"),
        ),
        "pass",
        summary="will pass DMARC through DKIM and SPF (p=reject)",
    ),
    Customer(
        "spfonly.test",
        (
            txt("_dmarc.spfonly.test", "v=DMARC1; p=reject"),
            txt("bounce.spfonly.test", "v=spf1 mx a:mail.spfonly.test -all"),
        ),
        "fail",
        signing="generic",
        spf="fail",
        disposition="reject",
        override="generic",
        summary=(
            "fails DMARC: generic signing never aligns and SPF fail at bounce.spfonly.test: "
            "the record does not include _spf.brandmail.test, so the provider's mail gets "
            "fail (-all); p=reject: mail will be rejected"
        ),
    ),
    Customer(
        "spfok.test",
        (
            txt("_dmarc.spfok.test", "v=DMARC1; p=quarantine"),
            txt("bounce.spfok.test", "v=spf1 include:_spf.spfok.test ~all"),
            txt("_spf.spfok.test", f"v=spf1 ip4:198.51.100.7 include:{SPF_INCLUDE} -all"),
        ),
        "pass",
        signing="generic",
        policy="quarantine",
        override="generic",
        summary="will pass DMARC through SPF (p=quarantine)",
    ),
    Customer(
        "nodmarc.test",
        (*delegation("nodmarc.test"), spf_with_provider("nodmarc.test")),
        "no-policy",
        spf_aligned=False,  # RFC 9989: with no DMARC record anywhere, each name is its own
        policy=None,
        summary=(
            "no DMARC record: receivers apply their local policy; "
            "with a policy, mail would pass through DKIM"
        ),
    ),
    Customer(
        "brokenreject.test",
        (txt("_dmarc.brokenreject.test", "v=DMARC1; p=reject"),),
        "fail",
        dkim="fail",
        spf="none",
        disposition="reject",
        summary=(
            "fails DMARC: aligned DKIM fails: mail1 CNAME missing; mail2 CNAME missing and "
            "bounce.brokenreject.test has no SPF record (SPF none); p=reject: mail will be "
            "rejected"
        ),
    ),
    Customer(
        "fragile.test",
        (
            *[r for r in delegation("fragile.test") if r.name.startswith("mail1.")],
            txt("_dmarc.fragile.test", "v=DMARC1; p=quarantine; t=y"),
        ),
        "pass",
        dkim="pass-until-rotation",
        spf="none",
        policy="quarantine",
        summary="will pass DMARC through DKIM (p=quarantine)",
    ),
    Customer(
        "servfail.test",
        (),
        "unknown",
        dkim="unknown",
        spf="temperror",
        spf_aligned=None,
        policy=None,
        disposition=None,
        summary=(
            "unknown: a temporary DNS failure hid part of the answer (the DKIM delegation, "
            "SPF at bounce.servfail.test, the DMARC policy); run the preview again"
        ),
    ),
)
BY_DOMAIN = {customer.domain: customer for customer in CUSTOMERS}
SERVFAIL_ZONE = "servfail.test"
"""A customer zone whose file is broken: Knot answers SERVFAIL for it."""


def zones() -> dict[str, str]:
    """Origin -> master file for every zone the scenario serves (servfail.test excluded)."""
    result = {"test": make_zone("test"), "brandmail.test": provider_zone()}
    for customer in CUSTOMERS:
        if customer.domain != SERVFAIL_ZONE:
            result[customer.domain] = make_zone(customer.domain, render_zone(customer.records))
    return result


def servfail_names() -> list[str]:
    """What an in-memory resolver must fail for, to stand in for the SERVFAIL zone."""
    return [
        *(f"{s}._domainkey.{SERVFAIL_ZONE}" for s in SELECTORS),
        f"bounce.{SERVFAIL_ZONE}",
        f"_dmarc.{SERVFAIL_ZONE}",
        SERVFAIL_ZONE,
    ]


def config_text(ring_dir: str = "ring") -> str:
    """brands.toml: brandmail signs aligned by default; bulkmail signs generic everywhere."""
    tenants = [c.domain for c in CUSTOMERS if c.override is None]
    generic = [c.domain for c in CUSTOMERS if c.override is not None]
    overrides = "\n".join(f'"{d}" = "generic"' for d in generic)
    return f"""\
[brands.brandmail]
mode = "legacy"
generic_domain = "{GENERIC_DOMAIN}"
generic_selector = "{GENERIC_SELECTOR}"
generic_key = "keys/generic.pem"
key_host = "{KEY_HOST}"
ring = "{ring_dir}"
spf_include = "{SPF_INCLUDE}"
mail_from = "bounce.{{domain}}"

[brands.brandmail.tenants]
acme = {tenants!r}
globex = {generic!r}

[brands.brandmail.domains]
{overrides}

[brands.bulkmail]
mode = "generic"
generic_domain = "{GENERIC_DOMAIN}"
generic_selector = "{GENERIC_SELECTOR}"
generic_key = "keys/generic.pem"
spf_include = "{SPF_INCLUDE}"
mail_from = "{PROVIDER_BOUNCE}"

[brands.bulkmail.tenants]
shop = ["pass.test", "nodmarc.test"]
""".replace("'", '"')


def write_world(root: Path, zone_texts: Mapping[str, str] | None = None) -> Path:
    """A config file, the ring directory and the zone files under ``root``; the config path."""
    FileKeyStore.create(root / "ring", RING)
    (root / "zones").mkdir()
    for origin, text in (zone_texts or zones()).items():
        (root / "zones" / f"{origin}.zone").write_text(text)
    config = root / "brands.toml"
    config.write_text(config_text())
    return config
