"""
``oxdkim demo``: the main job on an embedded default, with nothing to configure.

It builds a brand in memory (a generic key and a two-slot ring), signs sample mail in
both modes, checks each signature with dkimpy against the DNS records oxdkim rendered,
shows tenant isolation, and prints the records each domain must publish.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from .._crypto import Algorithm, SigningKey
from .._dkimpy import dkimpy_verifies
from .._keyring import KeyRing
from .._records import DnsRecord, key_record_name, render_zone
from .._signer import Signer
from ..exceptions import SigningRefusedError
from ..policies import DefaultGenericPolicy, LegacyBrandPolicy
from ._common import EXIT_FAILED, EXIT_OK

GENERIC_DOMAIN = "dkim.brandmail.example"
KEY_HOST = "keys.brandmail.example"
TENANTS = {"acme": ["acme.example"], "globex": ["globex.example"]}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="sign and verify sample mail in both modes, all in memory",
        description="Run oxdkim end to end on an embedded default: keys, DNS and messages "
        "are made in memory; nothing to configure, no network.",
    )
    parser.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        default=Algorithm.RSA_SHA256.value,
        help="algorithm of the demo keys (default rsa-sha256)",
    )
    parser.set_defaults(func=run)


def _message(sender: str, subject: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: someone@receiver.example\r\nSubject: {subject}\r\n"
        "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n"
        f"Message-ID: <{abs(hash(subject))}@demo.oxdkim>\r\n\r\n"
        "Hello from the oxdkim demo.  \r\n"
    ).encode()


def run(args: argparse.Namespace) -> int:
    """Build the brand, sign, verify, explain."""
    now = datetime.now(UTC)
    algorithm = Algorithm(args.algorithm)
    generic_key = SigningKey.generate(algorithm)
    ring = KeyRing.generate(algorithm, since=now)
    generic = DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", generic_key)
    aligned = Signer(LegacyBrandPolicy(ring, TENANTS, fallback=generic))
    strict = Signer(LegacyBrandPolicy(ring, TENANTS))

    records = [DnsRecord(key_record_name("gen1", GENERIC_DOMAIN), "TXT", generic_key.txt_record())]
    for selector, value in ring.txt_records().items():
        records.append(DnsRecord(key_record_name(selector, KEY_HOST), "TXT", value))
    cnames: dict[str, str] = {}
    for domains in TENANTS.values():
        for domain in domains:
            for selector in ring.txt_records():
                name, target = (
                    key_record_name(selector, domain),
                    key_record_name(selector, KEY_HOST),
                )
                cnames[name] = target
                records.append(DnsRecord(name, "CNAME", target))
    txt = {r.name: r.value for r in records if r.rtype == "TXT"}

    print(f"oxdkim demo: a brand in memory, {algorithm.value} keys")
    print(f"  generic signing domain  d={GENERIC_DOMAIN} s=gen1")
    print(f"  aligned key ring        {', '.join(ring.txt_records())} at {KEY_HOST}")
    print(f"  tenants                 {TENANTS}\n")

    failures = 0
    cases = [
        ("generic mode", Signer(generic), "Alice <alice@acme.example>", None),
        ("aligned mode", aligned, "Alice <alice@acme.example>", "acme"),
        ("other tenant's domain, falls back", aligned, "Eve <eve@acme.example>", "globex"),
    ]
    for title, signer, sender, tenant in cases:
        message = _message(sender, title)
        result = signer.sign(message, tenant=tenant)[0]
        ok = dkimpy_verifies(result.header + message, txt, cnames)
        failures += not ok
        print(f"{title}: From {sender} (tenant {tenant or '-'})")
        print(f"  d={result.domain} s={result.selector}  [{result.policy}] {result.reason}")
        print(f"  verified by dkimpy against the rendered DNS: {'pass' if ok else 'FAIL'}\n")
    try:
        strict.sign(_message("Eve <eve@acme.example>", "refused"), tenant="globex")
        failures += 1
    except SigningRefusedError as exc:
        print(f"without a fallback the same message is refused: {exc}\n")

    print("DNS records to publish:")
    print(render_zone(records, header="provider key host, generic key, and each customer's CNAMEs"))
    return EXIT_OK if failures == 0 else EXIT_FAILED
