"""``oxdkim verify``: check every DKIM signature of one message."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from .._verify.verifier import Verifier
from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    CliError,
    add_deprecated_option,
    moment,
    read_input,
)
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
    parser.add_argument(
        "--now",
        type=moment,
        metavar="TIME",
        help="verify as if it were this time (ISO 8601 or UNIX seconds)",
    )
    add_deprecated_option(parser, "--at", "--now", type=moment, metavar="UNIX_TIME")
    parser.add_argument(
        "--allow-body-length", action="store_true", help="let signatures with l= pass"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Verify and print."""
    message = read_input(args.file)
    if not message.strip():
        raise CliError(f"{args.file or 'standard input'} is empty: there is no message to verify")
    resolver = make_resolver(args)
    if args.now is not None:
        now: datetime = args.now
        verifier = Verifier(resolver, clock=lambda: now, allow_body_length=args.allow_body_length)
    else:
        verifier = Verifier(resolver, allow_body_length=args.allow_body_length)
    results = verifier.verify(message)
    if args.json:
        data = [
            {
                "result": result.result.value,
                "d": result.domain,
                "s": result.selector,
                "reason": result.reason.value if result.reason else None,
                "message": result.message,
            }
            for result in results
        ]
        print(json.dumps({"signatures": data}, indent=2, ensure_ascii=True))
    elif not results:
        print("none\t-\t-\tthe message has no DKIM-Signature")
    else:
        for result in results:
            reason = result.reason.value if result.reason else "-"
            print(
                f"{result.result.value}\td={result.domain or '?'}\ts={result.selector or '?'}"
                f"\t{reason}\t{result.message}"
            )
    return EXIT_OK if results and all(r.passed for r in results) else EXIT_FAILED
