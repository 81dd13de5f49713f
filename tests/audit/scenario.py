"""
The audit's world: a brand's key ring, its key host zone, and customer zones that show
every problem an operator meets, all rendered by oxdkim (``_records``) and then changed
per case the way customers get them wrong.

The same zone texts are served by a real Knot server and loaded into memory, so one
table of expected classifications checks both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import attrs

from dnsserver import make_zone
from oxdkim import KeyRing, KeySlot, SigningKey, SlotState
from oxdkim._keys.records import DnsRecord, delegation_records, render_zone, ring_records
from oxdkim._keys.ringstate import RingSnapshot

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEY_HOST = "keys.brand.test"
OTHER_BRAND = "keys.otherbrand.test"
SELECTORS = ("mail1", "mail2")
GENERIC_DOMAIN = "dkim.brand.test"


def _key(n: int) -> SigningKey:
    return SigningKey.from_ed25519_seed(bytes([n]) * 32)


KEY1, KEY2, OLD_KEY, NEW_KEY, OTHER1, OTHER2, GENERIC_KEY = (_key(n) for n in range(1, 8))

RING = KeyRing.from_keys(
    {"mail1": KEY1, "mail2": KEY2}, active="mail1", since=T0 - timedelta(days=30), key_host=KEY_HOST
).snapshot()
OTHER_RING = KeyRing.from_keys(
    {"mail1": OTHER1, "mail2": OTHER2}, active="mail1", key_host=OTHER_BRAND
).snapshot()

RINGS: dict[str, RingSnapshot] = {
    "main": RING,
    # mail2 holds no key at all (a brand that has only ever had one key)
    "empty2": RING.replace(KeySlot("mail2")),
    # mail2 holds a freshly staged key that DNS does not serve yet
    "staged2": RING.replace(KeySlot("mail2", NEW_KEY, SlotState.STAGED, T0)),
    # mail2 was revoked in the ring, but the key host still serves the old key
    "revoked2": RING.replace(KeySlot("mail2", None, SlotState.REVOKED, T0)),
}


def record(name: str, rtype: str, value: str, ttl: int = 3600) -> DnsRecord:
    return DnsRecord(name, rtype, value, ttl)


def key_host_records(host: str, ring: RingSnapshot = RING) -> list[DnsRecord]:
    """What oxdkim renders for ``ring`` at ``host``."""
    return ring_records(RingSnapshot(ring.algorithm, ring.slots, host, ring.timings))


def _broken_host(host: str, selector: str, *values: str) -> list[DnsRecord]:
    """The ring's records at ``host``, with ``selector``'s TXT replaced by ``values``."""
    name = f"{selector}._domainkey.{host}"
    records = [r for r in key_host_records(host) if r.name != name]
    return records + [record(name, "TXT", value) for value in values]


def brand_zone() -> str:
    """brand.test: the real key host, plus key hosts that each show one provider problem."""
    records = key_host_records(KEY_HOST)
    records += _broken_host("mismatch.brand.test", "mail1", OLD_KEY.txt_record())
    records += _broken_host("revoked.brand.test", "mail1", "v=DKIM1; k=ed25519; p=")
    records += _broken_host("nokey.brand.test", "mail2")
    records += _broken_host(
        "multi.brand.test", "mail1", KEY1.txt_record(), "v=DKIM1; k=ed25519; p=second"
    )
    records += _broken_host("garbage.brand.test", "mail1", "v=DKIM1; k=ed25519; p=!!not-base64")
    records.append(record(f"gen1._domainkey.{GENERIC_DOMAIN}", "TXT", GENERIC_KEY.txt_record()))
    return make_zone("brand.test", render_zone(records))


def other_brand_zone() -> str:
    return make_zone("otherbrand.test", render_zone(ring_records(OTHER_RING)))


def delegation(domain: str, host: str = KEY_HOST, ttl: int = 3600) -> list[DnsRecord]:
    """The two CNAMEs oxdkim tells a customer to publish."""
    return delegation_records(domain, SELECTORS, host, ttl=ttl)


def retarget(records: list[DnsRecord], selector: str, target: str) -> list[DnsRecord]:
    """The same records with ``selector``'s CNAME pointing at ``target``."""
    return [
        attrs.evolve(r, value=target) if r.name.startswith(selector + ".") else r for r in records
    ]


def without(records: list[DnsRecord], selector: str) -> list[DnsRecord]:
    return [r for r in records if not r.name.startswith(selector + ".")]


def _customer_bodies() -> dict[str, str]:
    """Customer domain -> zone body (absolute names), each modified to show its case."""
    bodies: dict[str, list[DnsRecord] | str] = {
        "ok.test": delegation("ok.test"),
        "missing.test": [],
        # names exist below the selectors: they are empty non-terminals (NODATA)
        "nodata.test": [
            record(f"x.{s}._domainkey.nodata.test", "TXT", "unrelated") for s in SELECTORS
        ],
        "txtcopy.test": [
            record(f"{s}._domainkey.txtcopy.test", "TXT", key.txt_record())
            for s, key in (("mail1", KEY1), ("mail2", KEY2))
        ],
        "txtold.test": [
            record("mail1._domainkey.txtold.test", "TXT", OLD_KEY.txt_record()),
            *without(delegation("txtold.test"), "mail1"),
        ],
        "moved.test": delegation("moved.test", OTHER_BRAND),
        "typo.test": retarget(
            retarget(delegation("typo.test"), "mail1", "mail1._domainky.keys.brand.test"),
            "mail2",
            "mail2._domainkey.kyes.brand.test",
        ),
        "swapped.test": retarget(
            retarget(delegation("swapped.test"), "mail1", f"mail2._domainkey.{KEY_HOST}"),
            "mail2",
            f"mail1._domainkey.{KEY_HOST}",
        ),
        "elsewhere.test": retarget(delegation("elsewhere.test"), "mail1", "dkim.elsewhere.test"),
        "onlyone.test": without(delegation("onlyone.test"), "mail2"),
        "onlysecond.test": without(delegation("onlysecond.test"), "mail1"),
        "lowttl.test": delegation("lowttl.test", ttl=60),
        "indirect.test": [
            *retarget(delegation("indirect.test"), "mail1", "dkim1.indirect.test"),
            record("dkim1.indirect.test", "CNAME", f"mail1._domainkey.{KEY_HOST}"),
        ],
        "loop.test": [
            *retarget(delegation("loop.test"), "mail1", "a.loop.test"),
            record("a.loop.test", "CNAME", "mail1._domainkey.loop.test"),
        ],
        "c-mismatch.test": delegation("c-mismatch.test", "mismatch.brand.test"),
        "c-revoked.test": delegation("c-revoked.test", "revoked.brand.test"),
        "c-nokey.test": delegation("c-nokey.test", "nokey.brand.test"),
        "c-multi.test": delegation("c-multi.test", "multi.brand.test"),
        "c-garbage.test": delegation("c-garbage.test", "garbage.brand.test"),
    }
    rendered = {
        domain: value if isinstance(value, str) else render_zone(value)
        for domain, value in bodies.items()
    }
    # The classic: the target written without its trailing dot, so the zone's origin is
    # appended to it when the zone is loaded.
    doubled = render_zone(delegation("doubled.test"))
    rendered["doubled.test"] = doubled.replace(
        f"mail1._domainkey.{KEY_HOST}.\n", f"mail1._domainkey.{KEY_HOST}\n"
    )
    return rendered


SERVFAIL_ZONE = "servfail.test"
"""A customer zone whose file is broken: the server answers SERVFAIL for it."""


def zones(bodies: Mapping[str, str] | None = None) -> dict[str, str]:
    """Origin -> master file for every zone the scenario serves."""
    result = {"brand.test": brand_zone(), "otherbrand.test": other_brand_zone()}
    for domain, body in (bodies or _customer_bodies()).items():
        result[domain] = make_zone(domain, body)
    return result


def servfail_names() -> list[str]:
    """The names an in-memory resolver must fail for, to stand in for the SERVFAIL zone."""
    return [f"{s}._domainkey.{SERVFAIL_ZONE}" for s in SELECTORS]


Expected = dict[str, set[tuple[str, str | None]]]


@attrs.frozen
class Case:
    """One customer domain, the audit's expected verdict, and each selector's problems."""

    id: str
    domain: str
    verdict: str
    problems: Expected
    key_host: str = KEY_HOST
    ring: str = "main"


def _p(code: str, kind: str | None = None) -> tuple[str, str | None]:
    return (code, kind)


NONE: set[tuple[str, str | None]] = set()
MISSING = {_p("missing-cname")}
WRONG = "wrong-target"

CASES = [
    Case("ok", "ok.test", "ok", {"mail1": NONE, "mail2": NONE}),
    Case("missing-nxdomain", "missing.test", "broken", {"mail1": MISSING, "mail2": MISSING}),
    Case("missing-nodata", "nodata.test", "broken", {"mail1": MISSING, "mail2": MISSING}),
    Case(
        "txt-copy-of-ring-key",
        "txtcopy.test",
        "broken",
        {"mail1": {_p("txt-instead-of-cname")}, "mail2": {_p("txt-instead-of-cname")}},
    ),
    Case(
        "txt-copy-of-old-key",
        "txtold.test",
        "broken",
        {"mail1": {_p("txt-instead-of-cname")}, "mail2": NONE},
    ),
    Case(
        "wrong-target-other-brand",
        "moved.test",
        "broken",
        {"mail1": {_p(WRONG, "other-brand")}, "mail2": {_p(WRONG, "other-brand")}},
    ),
    Case(
        "wrong-target-doubled-domain",
        "doubled.test",
        "broken",
        {"mail1": {_p(WRONG, "doubled-domain")}, "mail2": NONE},
    ),
    Case(
        "wrong-target-typo",
        "typo.test",
        "broken",
        {"mail1": {_p(WRONG, "typo")}, "mail2": {_p(WRONG, "typo")}},
    ),
    Case(
        "wrong-target-swapped-selectors",
        "swapped.test",
        "broken",
        {"mail1": {_p(WRONG, "other-selector")}, "mail2": {_p(WRONG, "other-selector")}},
    ),
    Case(
        "wrong-target-other",
        "elsewhere.test",
        "broken",
        {"mail1": {_p(WRONG, "other")}, "mail2": NONE},
    ),
    Case(
        "only-the-active-selector",
        "onlyone.test",
        "broken",
        {"mail1": NONE, "mail2": {_p("one-selector-only")}},
    ),
    Case(
        "only-the-inactive-selector",
        "onlysecond.test",
        "broken",
        {"mail1": {_p("one-selector-only")}, "mail2": NONE},
    ),
    Case("low-ttl", "lowttl.test", "ok", {"mail1": {_p("low-ttl")}, "mail2": {_p("low-ttl")}}),
    Case("indirect-chain-is-fine", "indirect.test", "ok", {"mail1": NONE, "mail2": NONE}),
    Case("cname-loop", "loop.test", "broken", {"mail1": {_p("broken-chain")}, "mail2": NONE}),
    Case(
        "temporary-failure",
        SERVFAIL_ZONE,
        "unknown",
        {"mail1": {_p("dns-temporary")}, "mail2": {_p("dns-temporary")}},
    ),
    Case(
        "key-mismatch",
        "c-mismatch.test",
        "broken",
        {"mail1": {_p("key-mismatch")}, "mail2": NONE},
        key_host="mismatch.brand.test",
    ),
    Case(
        "key-revoked",
        "c-revoked.test",
        "broken",
        {"mail1": {_p("key-revoked")}, "mail2": NONE},
        key_host="revoked.brand.test",
    ),
    Case(
        "key-missing",
        "c-nokey.test",
        "broken",
        {"mail1": NONE, "mail2": {_p("key-missing")}},
        key_host="nokey.brand.test",
    ),
    Case(
        "multiple-keys",
        "c-multi.test",
        "broken",
        {"mail1": {_p("multiple-keys")}, "mail2": NONE},
        key_host="multi.brand.test",
    ),
    Case(
        "malformed-key",
        "c-garbage.test",
        "broken",
        {"mail1": {_p("malformed-key")}, "mail2": NONE},
        key_host="garbage.brand.test",
    ),
    Case(
        "slot-empty-is-not-the-customers-problem",
        "ok.test",
        "ok",
        {"mail1": NONE, "mail2": {_p("slot-empty")}},
        ring="empty2",
    ),
    Case(
        "staged-key-not-yet-published-is-a-notice",
        "ok.test",
        "ok",
        {"mail1": NONE, "mail2": {_p("key-mismatch")}},
        ring="staged2",
    ),
    Case(
        "revoked-slot-still-served-is-a-notice",
        "ok.test",
        "ok",
        {"mail1": NONE, "mail2": {_p("key-mismatch")}},
        ring="revoked2",
    ),
]
"""Every problem class, seeded once (or more) in a customer zone or at a key host."""

CUSTOMER_DOMAINS = list(dict.fromkeys(case.domain for case in CASES))


def found(report: object) -> Expected:
    """A report's problems as ``{selector: {(code, target_kind)}}``."""
    from oxdkim.audit import DomainReport

    assert isinstance(report, DomainReport)
    return {
        s.selector: {
            (p.code.value, p.target_kind.value if p.target_kind else None) for p in s.problems
        }
        for s in report.selectors
    }
