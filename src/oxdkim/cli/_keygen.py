"""``oxdkim keygen``: make a private key file and print its DNS record."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._crypto import Algorithm, SigningKey
from .._records import DnsRecord, key_record_name
from ._common import EXIT_OK, write_private_file


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "keygen",
        help="make a signing key (mode 0600) and print its TXT record",
        description="Write a new private key (PKCS#8 PEM, mode 0600) and print the TXT "
        "record to publish, in zone-file form.",
    )
    parser.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        default=Algorithm.RSA_SHA256.value,
        help="signing algorithm (default: rsa-sha256)",
    )
    parser.add_argument("--bits", type=int, default=2048, help="RSA key size (default 2048)")
    parser.add_argument("--out", required=True, type=Path, help="private key file to write")
    parser.add_argument("--selector", default="SELECTOR", help="selector for the record name")
    parser.add_argument("--domain", default="example.com", help="domain for the record name")
    parser.add_argument("--force", action="store_true", help="replace an existing key file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate, write, print."""
    key = SigningKey.generate(args.algorithm, bits=args.bits)
    write_private_file(args.out, key.private_pem(), overwrite=args.force)
    record = DnsRecord(key_record_name(args.selector, args.domain), "TXT", key.txt_record())
    print(f"; {key.algorithm.value} key ({key.bits} bits) written to {args.out}")
    print(record.zone_line())
    return EXIT_OK
