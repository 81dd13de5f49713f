"""
``oxdkim demo``: the main job on an embedded default, with nothing to configure.

A brand is built in memory (a generic key, a two-slot ring, an in-memory DNS zone with the
provider's records and three customer domains: one delegated correctly, one not, one
without DMARC). Sample mail is signed in both modes, verified by oxdkim (and by dkimpy as an
independent second opinion; PyNaCl, a base dependency, gives dkimpy Ed25519), evaluated
for DMARC, a key rollover runs in simulated time, and the records each domain must
publish are printed. Every step checks what it expects; the exit code is 0 only when every
expectation held, and each failed expectation is printed with its reason.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from .._dkim.crypto import Algorithm, SigningKey
from .._dmarc.alignment import DmarcAlignment, SpfCheck
from .._keys.keyring import KeyRing
from .._keys.records import DnsRecord, brand_records, render_zone
from .._keys.ringstate import RolloverTimings
from .._signing.signer import Signer
from .._verify.dkimpy import dkimpy_disagreement
from .._verify.verifier import Verifier
from ..exceptions import SigningRefusedError
from ..policies import DefaultGenericPolicy, LegacyBrandPolicy
from ..resolvers import InMemoryZone
from ..testing import make_message
from ._common import EXIT_FAILED, EXIT_OK

GENERIC_DOMAIN = "dkim.brandmail.example"
KEY_HOST = "keys.brandmail.example"
BOUNCE_DOMAIN = "bounce.brandmail.example"
TENANTS = {"acme": ["acme.example"], "globex": ["globex.example"], "initech": ["initech.example"]}
DMARC = {"acme.example": "v=DMARC1; p=reject", "globex.example": "v=DMARC1; p=quarantine"}
DELEGATED = ("acme.example", "initech.example")  # globex.example forgot its CNAMEs
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="sign, verify and evaluate sample mail in both modes; all in memory",
        description="Run oxdkim end to end on an embedded default: keys, DNS and messages "
        "are made in memory; nothing to configure, no network.",
    )
    parser.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        default=Algorithm.RSA_SHA256.value,
        help="algorithm of the demo keys (default rsa-sha256)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


class _Clock:
    """Simulated time, so the rollover's waits take no real time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class _Demo:
    def __init__(self, algorithm: Algorithm) -> None:
        self.clock = _Clock()
        self.generic_key = SigningKey.generate(algorithm)
        self.ring = KeyRing.generate(
            algorithm,
            key_host=KEY_HOST,
            since=START - timedelta(days=30),
            timings=RolloverTimings(),
        )
        self.ring.clock = self.clock
        self.generic = DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", self.generic_key)
        self.aligned = LegacyBrandPolicy(self.ring, TENANTS, fallback=self.generic)
        self.checks: list[dict[str, Any]] = []
        self.publish()

    def records(self, *, every_domain: bool = False) -> list[DnsRecord]:
        """The brand's records; the CNAMEs of the delegated domains, or of every domain."""
        domains = [d for ds in TENANTS.values() for d in ds] if every_domain else DELEGATED
        return brand_records(
            ring=self.ring.snapshot(),
            generic=(GENERIC_DOMAIN, "gen1", self.generic_key),
            legacy_domains=domains,
        )

    def publish(self) -> None:
        """Serve what oxdkim renders (minus globex's CNAMEs), plus DMARC records."""
        extra = [DnsRecord(f"_dmarc.{d}", "TXT", v) for d, v in DMARC.items()]
        extra += [
            DnsRecord(d, "TXT", "v=spf1 include:_spf.brandmail.example -all") for d in TENANTS
        ]
        self.dns = InMemoryZone(zone_text=render_zone([*self.records(), *extra]))
        self.verifier = Verifier(self.dns, clock=self.clock)
        self.dmarc = DmarcAlignment(self.dns)

    def expect(self, what: str, ok: bool, why: str | None = None, **data: Any) -> None:
        """Record one expectation; ``why`` says what went wrong when it did not hold."""
        self.checks.append({"check": what, "ok": ok, "why": None if ok else why, **data})

    def message(self, sender: str, subject: str) -> bytes:
        return make_message(
            sender,
            to="someone@receiver.example",
            subject=subject,
            body="Hello from the oxdkim demo.  \r\n",
        )

    def sign_and_check(
        self, policy: Any, domain: str, tenant: str, *, dkim: str, dmarc: str
    ) -> dict[str, Any]:
        """Sign, verify, evaluate DMARC; compare with what the demo expects."""
        message = self.message(f"User <user@{domain}>", f"{policy.name} {domain}")
        [signed] = Signer(policy, clock=self.clock).sign(message, tenant=tenant)
        whole = signed.header + message
        [verified] = self.verifier.verify(whole)
        result = self.dmarc.evaluate(domain, dkim=[verified], spf=SpfCheck("pass", BOUNCE_DOMAIN))
        disagreement = dkimpy_disagreement(whole, self.dns) if verified.passed else None
        second = None if not verified.passed else disagreement is None
        row = {
            "domain": domain,
            "tenant": tenant,
            "d": signed.domain,
            "s": signed.selector,
            "policy": signed.policy,
            "dkim": verified.result.value,
            "dkim_reason": verified.reason.value if verified.reason else None,
            "dkimpy_agrees": second,
            "dmarc": result.verdict.value,
            "dmarc_reason": result.reason.value,
            "disposition": result.disposition.value,
        }
        why = []
        if verified.result.value != dkim:
            why.append(f"oxdkim's DKIM result was {verified.result.value}, expected {dkim}")
        if result.verdict.value != dmarc:
            why.append(f"DMARC was {result.verdict.value}, expected {dmarc}")
        if disagreement is not None:
            hint = "; install PyNaCl: pip install pynacl" if "pynacl" in disagreement else ""
            why.append(f"dkimpy (the independent verifier) rejected it: {disagreement}{hint}")
        self.expect(f"{policy.name} {domain}", not why, "; ".join(why), **row)
        return row


def _rollover(demo: _Demo) -> list[dict[str, Any]]:
    """Rotate mail1 -> mail2 in simulated time; old and new mail verify while published."""
    steps: list[dict[str, Any]] = []
    before = demo.message("User <user@acme.example>", "before rollover")
    [old] = Signer(demo.aligned, clock=demo.clock).sign(before, tenant="acme")
    old_mail = old.header + before

    def note(step: str) -> None:
        [check] = demo.verifier.verify(old_mail)
        steps.append(
            {
                "step": step,
                "time": demo.clock.now.isoformat(),
                "states": {s.selector: s.state.value for s in demo.ring.snapshot().slots},
                "old_mail": check.result.value,
                "old_reason": check.reason.value if check.reason else None,
            }
        )

    note("start: mail1 signs")
    demo.ring.revoke("mail2")  # mail2 held a key that never signed
    demo.ring.stage(SigningKey.generate(demo.ring.algorithm), selector="mail2")
    demo.publish()
    note("staged a new key in mail2; its TXT record added to DNS")
    demo.ring.confirm("mail2", demo.dns, via_domain="acme.example")
    note("confirmed: DNS serves it through acme.example's CNAME")
    demo.clock.now += timedelta(hours=2)
    demo.ring.activate("mail2")
    demo.publish()
    note("2 h later (TTL + negative TTL): mail2 signs, mail1 retires")
    after = demo.sign_and_check(demo.aligned, "acme.example", "acme", dkim="pass", dmarc="pass")
    steps.append({"step": "new mail is signed with mail2", "d": after["d"], "s": after["s"]})
    demo.clock.now += timedelta(days=7)
    demo.ring.revoke("mail1")
    demo.publish()
    note("7 days later (retention): mail1 revoked, p= empty")
    still_ok = all(s.get("old_mail", "pass") == "pass" for s in steps[:-1])
    revoked = steps[-1]["old_reason"] == "key-revoked"
    demo.expect(
        "old mail verifies until its key is revoked",
        still_ok and revoked,
        "old mail stopped verifying before mail1 was revoked"
        if not still_ok
        else f"after the revocation old mail gave {steps[-1]['old_reason']}, not key-revoked",
    )
    demo.expect(
        "new mail signs with the new slot",
        after["s"] == "mail2",
        f"new mail was signed with {after['s']}, not mail2",
    )
    return steps


def run(args: argparse.Namespace) -> int:
    """Build the brand, sign, verify, evaluate, rotate, explain."""
    demo = _Demo(Algorithm(args.algorithm))
    generic_rows = [
        demo.sign_and_check(demo.generic, d, t, dkim="pass", dmarc=e)
        for d, t, e in (
            ("acme.example", "acme", "fail"),
            ("globex.example", "globex", "fail"),
            ("initech.example", "initech", "none"),
        )
    ]
    aligned_rows = [
        demo.sign_and_check(demo.aligned, d, t, dkim=k, dmarc=e)
        for d, t, k, e in (
            ("acme.example", "acme", "pass", "pass"),
            ("globex.example", "globex", "permerror", "fail"),
            ("initech.example", "initech", "pass", "none"),
        )
    ]
    spoof = demo.sign_and_check(demo.aligned, "acme.example", "globex", dkim="pass", dmarc="fail")
    demo.expect(
        "another tenant's domain falls back to generic",
        spoof["d"] == GENERIC_DOMAIN,
        f"signed with d={spoof['d']}",
    )
    try:
        Signer(LegacyBrandPolicy(demo.ring, TENANTS)).sign(
            demo.message("Eve <eve@acme.example>", "spoof"), tenant="globex"
        )
        refused = None
    except SigningRefusedError as exc:
        refused = str(exc)
    demo.expect("without a fallback it is refused", refused is not None, "it was signed")
    rollover = _rollover(demo)
    records = demo.records(every_domain=True)
    report = {
        "algorithm": args.algorithm,
        "generic": generic_rows,
        "aligned": aligned_rows,
        "isolation": {"fallback": spoof, "refused": refused},
        "rollover": rollover,
        "records": [r.as_json() for r in records],
        "checks": demo.checks,
        "ok": all(c["ok"] for c in demo.checks),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report, records)
    return EXIT_OK if report["ok"] else EXIT_FAILED


def _row(row: dict[str, Any]) -> str:
    dkim = row["dkim"] + (f" ({row['dkim_reason']})" if row["dkim_reason"] else "")
    dmarc = f"{row['dmarc']} ({row['dmarc_reason']})"
    if row["dmarc"] == "fail":
        dmarc += f" -> {row['disposition']}"
    return f"  {row['domain']:<16} d={row['d']:<23} dkim={dkim:<26} dmarc={dmarc}"


def _print(report: dict[str, Any], records: list[DnsRecord]) -> None:
    tenants = ", ".join(f"{t}: {', '.join(d)}" for t, d in TENANTS.items())
    print(f"oxdkim demo: one brand in memory ({report['algorithm']}), nothing to configure\n")
    print(f"  generic signing  d={GENERIC_DOMAIN} s=gen1")
    print(f"  aligned ring     mail1 (active), mail2 at {KEY_HOST}")
    print(f"  tenants          {tenants}")
    print("  customer DNS     acme: CNAMEs + p=reject; globex: no CNAMEs + p=quarantine;")
    print("                   initech: CNAMEs, no DMARC record")
    print(f"  SPF (assumed)    pass for MAIL FROM @{BOUNCE_DOMAIN}: never aligned\n")
    print("1. Generic mode: d= is the provider's domain, so DKIM never aligns")
    for row in report["generic"]:
        print(_row(row))
    print("\n2. Aligned mode: d= is the customer's domain, key found through its CNAMEs")
    for row in report["aligned"]:
        print(_row(row))
    print("\n3. Tenant isolation: tenant globex sends as acme.example")
    fallback = report["isolation"]["fallback"]
    print(f"  with a generic fallback: d={fallback['d']} [{fallback['policy']}]")
    print(f"  without one:             refused ({report['isolation']['refused']})")
    print("\n4. Key rollover in simulated time (mail signed before it, checked at each step)")
    for step in report["rollover"]:
        if "old_mail" in step:
            reason = f" ({step['old_reason']})" if step["old_reason"] else ""
            states = ", ".join(f"{k}={v}" for k, v in step["states"].items())
            print(f"  {step['step']:<62} [{states}] old mail: {step['old_mail']}{reason}")
        else:
            print(f"  {step['step']}: d={step['d']} s={step['s']}")
    print("\n5. DNS to publish (zone-file form; globex.example still has to add its CNAMEs)")
    print(render_zone(records, header="provider: generic key and key ring; customers: CNAMEs"))
    failed = [c for c in report["checks"] if not c["ok"]]
    for check in failed:
        print(f"FAILED {check['check']}: {check['why']}")
    verdict = f"{len(failed)} FAILED (why: above)" if failed else "every expectation held"
    print(f"{len(report['checks'])} checks: {verdict}")
