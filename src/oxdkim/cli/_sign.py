"""``oxdkim sign``: sign one message with one key, write the signed message to stdout."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from .._base.clock import utc_now
from .._dkim.canon import Canonicalization
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, RSA_DEFAULT_MIN_BITS, Algorithm, SigningKey
from .._signing.results import DEFAULT_SIGNED_HEADERS, SignatureOptions
from .._signing.signer import Signer
from ..policies import DefaultGenericPolicy
from ..typing import Clock
from ._common import EXIT_OK, CliError, read_input, unix_time
from ._configopts import add_config_options, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "sign",
        help="sign a message (FILE or stdin) and write it to stdout",
        description="Sign one message with one key. The DKIM-Signature field is prepended; "
        "the message bytes are otherwise unchanged.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="message file (default stdin)")
    parser.add_argument("--key", metavar="KEY.pem", help="private key PEM file")
    parser.add_argument("--domain", help="signing domain (d=)")
    parser.add_argument("--selector", help="selector (s=)")
    add_config_options(parser)
    parser.add_argument("--tenant", help="with --config: the submitting tenant")
    parser.add_argument("--envelope-sender", help="with --config: the SMTP MAIL FROM")
    parser.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        help="expected algorithm; must match the key (default: the key's)",
    )
    parser.add_argument(
        "--canonicalization", default="relaxed/relaxed", help="c= (default relaxed/relaxed)"
    )
    parser.add_argument(
        "--headers",
        help="colon-separated fields to sign (default: "
        + ":".join(DEFAULT_SIGNED_HEADERS[:6])
        + ":...)",
    )
    parser.add_argument("--no-oversign", action="store_true", help="do not oversign fields")
    parser.add_argument("--timestamp", type=unix_time, help="t= as UNIX seconds (default now)")
    parser.add_argument("--expire", type=int, metavar="SECONDS", help="add x= = t= + SECONDS")
    parser.add_argument(
        "--allow-1024",
        action="store_true",
        help="accept RSA keys of 1024 to 2047 bits (RFC 8301 minimum; 2048 recommended)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the key (or the brand), build the policy, sign, write."""
    clock = _clock(args)
    chosen = load(args)
    if chosen is not None:
        if args.key or args.domain or args.selector:
            raise CliError("give either --config or --key/--domain/--selector, not both")
        signer = Signer(chosen[0].policy(args.brand), clock=clock)
        signed = signer.signed_message(
            read_input(args.file), tenant=args.tenant, envelope_sender=args.envelope_sender
        )
        sys.stdout.buffer.write(signed)
        sys.stdout.buffer.flush()
        return EXIT_OK
    if not (args.key and args.domain and args.selector):
        raise CliError("give --key, --domain and --selector (or --config)")
    min_bits = RSA_ABSOLUTE_MIN_BITS if args.allow_1024 else RSA_DEFAULT_MIN_BITS
    key = SigningKey.from_file(args.key, min_rsa_bits=min_bits)
    if args.algorithm and Algorithm(args.algorithm) is not key.algorithm:
        raise CliError(
            f"--algorithm {args.algorithm} does not match the key ({key.algorithm.value})"
        )
    options = SignatureOptions(
        canonicalization=Canonicalization.parse(args.canonicalization),
        headers=tuple(args.headers.split(":")) if args.headers else DEFAULT_SIGNED_HEADERS,
        oversign=not args.no_oversign,
        expires_in=args.expire,
    )
    policy = DefaultGenericPolicy(args.domain, args.selector, key, options)
    message = read_input(args.file)
    signed = Signer(policy, clock=clock).signed_message(message)
    sys.stdout.buffer.write(signed)
    sys.stdout.buffer.flush()
    return EXIT_OK


def _clock(args: argparse.Namespace) -> Clock:
    if args.timestamp is None:
        return utc_now
    fixed: datetime = args.timestamp
    return lambda: fixed
