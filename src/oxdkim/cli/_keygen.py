"""
``oxdkim keygen``: make a private key file and its DNS record (printed, and written beside
the key, as OpenDKIM's ``opendkim-genkey`` does).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .._base.files import atomic_write, looks_like_key_text, shown_path
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, RSA_DEFAULT_MIN_BITS, Algorithm, SigningKey
from .._keys.records import DnsRecord, key_record_name
from ._common import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    add_deprecated_option,
    domain_option,
    selector_option,
    write_private_file,
)


def _out_path(text: str) -> Path:
    """argparse type for ``--out``: a path, never key text pasted in its place (not echoed)."""
    if looks_like_key_text(text) and not os.path.lexists(text):
        raise argparse.ArgumentTypeError(f"not a file path: {shown_path(text)}")
    return Path(text)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "keygen",
        help="make a signing key (mode 0600) and its TXT record",
        description="Write a new private key (PKCS#8 PEM, mode 0600) and its TXT record: "
        "printed, and written beside the key (KEY.txt for KEY.pem). With --selector and "
        "--domain the record is a zone-file line; without them, only the value to publish. "
        "Check it once published with `oxdkim testkey`.",
    )
    parser.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        default=Algorithm.RSA_SHA256.value,
        help="signing algorithm (default: rsa-sha256)",
    )
    parser.add_argument("--bits", type=int, metavar="N", help="RSA key size (default 2048)")
    parser.add_argument(
        "--allow-1024",
        action="store_true",
        help="allow an RSA key of 1024 to 2047 bits (sign and ring need it too; 2048 "
        "recommended, RFC 8301)",
    )
    parser.add_argument("--out", required=True, type=_out_path, help="private key file to write")
    parser.add_argument("--selector", help="selector of the record (s=)")
    parser.add_argument("--domain", help="signing domain of the record (d=)")
    parser.add_argument(
        "--replace", action="store_true", help="replace an existing key file and its record"
    )
    add_deprecated_option(parser, "--force", "--replace", dest="replace", nargs=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def record_path(key_path: Path) -> Path:
    """Where the record goes: ``KEY.txt`` beside ``KEY.pem`` (``KEY.record.txt`` for .txt)."""
    if key_path.suffix == ".txt":
        return key_path.with_name(key_path.stem + ".record.txt")
    return key_path.with_suffix(".txt")


def run(args: argparse.Namespace) -> int:
    """Generate, write, print."""
    algorithm = Algorithm(args.algorithm)
    if str(args.out) == "-" or args.out.is_dir():
        raise CliError(f"--out {args.out}: give the name of the key file to write")
    if args.bits is not None and algorithm is not Algorithm.RSA_SHA256:
        raise CliError(f"--bits is for rsa-sha256 keys; {algorithm.value} keys have one size")
    bits = RSA_DEFAULT_MIN_BITS if args.bits is None else args.bits
    if algorithm is Algorithm.RSA_SHA256:
        if bits < RSA_ABSOLUTE_MIN_BITS:
            raise CliError(f"--bits {bits}: RSA keys need at least 1024 bits (RFC 8301)")
        if bits < RSA_DEFAULT_MIN_BITS and not args.allow_1024:
            raise CliError(
                f"--bits {bits}: keys under 2048 bits are refused by `sign`, `ring` and "
                "the configuration unless allowed there too; add --allow-1024 to make one"
            )
    selector = selector_option(args.selector) if args.selector is not None else None
    domain = domain_option(args.domain, "--domain") if args.domain is not None else None
    text_path = record_path(args.out)
    if not args.replace:
        for path in (args.out, text_path):
            if path.exists():
                raise CliError(f"{path} exists; use --replace to replace it")
    key = SigningKey.generate(algorithm, bits=bits)
    value = key.txt_record()
    if selector is not None and domain is not None:
        record = DnsRecord(key_record_name(selector, domain), "TXT", value)
        line = record.zone_line()
        name: str | None = record.name
    else:
        quoted = '"' + value + '"'
        where = f"{selector or '<selector>'}._domainkey.{domain or '<domain>'}"
        line = f"; publish as TXT at {where} (--selector and --domain: a zone line)\n{quoted}"
        name = None
    write_private_file(args.out, key.private_pem(), overwrite=True)
    try:
        atomic_write(text_path, (line + "\n").encode("ascii"), mode=0o644)
    except OSError as exc:
        raise CliError(f"cannot write {text_path}: {exc.strerror}", EXIT_USAGE) from None
    if args.json:
        data = {
            "key_file": str(args.out),
            "record_file": str(text_path),
            "algorithm": key.algorithm.value,
            "bits": key.bits,
            "fingerprint": key.fingerprint,
            "name": name,
            "type": "TXT",
            "value": value,
        }
        print(json.dumps(data, indent=2))
        return EXIT_OK
    print(f"; {key.algorithm.value} key ({key.bits} bits) written to {args.out}")
    print(f"; its record also written to {text_path}")
    print(line)
    return EXIT_OK
