"""``oxdkim verify``: check every DKIM signature of one message."""

from __future__ import annotations

import argparse
from datetime import datetime

from .._verifier import Verifier
from ._common import EXIT_FAILED, EXIT_OK, read_input, unix_time
from ._dnsopts import add_dns_options, make_resolver


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="verify every DKIM signature of a message (FILE or stdin)",
        description="Verify every DKIM-Signature of a message. One line per signature: "
        "result, d=, s=, reason. Exit 0 only when every signature passed, 1 when one did "
        "not (or there is none), 2 on unusable input.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="message file (default stdin)")
    add_dns_options(parser)
    parser.add_argument("--at", type=unix_time, metavar="UNIX_TIME", help="verify as of this time")
    parser.add_argument(
        "--allow-body-length", action="store_true", help="let signatures with l= pass"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Verify and print."""
    message = read_input(args.file)
    resolver = make_resolver(args)
    if args.at is not None:
        moment: datetime = args.at
        verifier = Verifier(
            resolver, clock=lambda: moment, allow_body_length=args.allow_body_length
        )
    else:
        verifier = Verifier(resolver, allow_body_length=args.allow_body_length)
    results = verifier.verify(message)
    if not results:
        print("none\t-\t-\tthe message has no DKIM-Signature")
        return EXIT_FAILED
    for result in results:
        reason = result.reason.value if result.reason else "-"
        print(
            f"{result.result.value}\td={result.domain or '?'}\ts={result.selector or '?'}"
            f"\t{reason}\t{result.message}"
        )
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED
