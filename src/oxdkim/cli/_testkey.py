"""
``oxdkim testkey``: does DNS serve this private key's public half? (OpenDKIM's
``opendkim-testkey``, for one key.)
"""

from __future__ import annotations

import argparse
import json

from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, RSA_DEFAULT_MIN_BITS, SigningKey
from .._keys.records import key_record_name
from .._keys.ringstate import KeySlot, SlotState
from .._keys.rollover import _served_problem as served_problem
from ._common import EXIT_FAILED, EXIT_OK, domain_option, selector_option
from ._dnsopts import add_dns_options, make_resolver


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "testkey",
        help="check that DNS serves a key file's record (like opendkim-testkey)",
        description="Look up <selector>._domainkey.<domain> and check that it serves "
        "exactly one key record, for the public half of KEY, in a form verifiers accept "
        "(CNAMEs followed). Exit 0 when it does, 1 when it does not (the line says why), "
        "2 on unusable input.",
    )
    parser.add_argument("--key", required=True, metavar="KEY.pem", help="private key PEM file")
    parser.add_argument("--selector", required=True, help="selector of the record (s=)")
    parser.add_argument("--domain", required=True, help="signing domain of the record (d=)")
    add_dns_options(parser)
    parser.add_argument(
        "--allow-1024", action="store_true", help="accept RSA keys of 1024 to 2047 bits"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Look up, compare, say."""
    bits = RSA_ABSOLUTE_MIN_BITS if args.allow_1024 else RSA_DEFAULT_MIN_BITS
    key = SigningKey.from_file(args.key, min_rsa_bits=bits)
    name = key_record_name(selector_option(args.selector), domain_option(args.domain, "--domain"))
    slot = KeySlot(args.selector, key, SlotState.STAGED)
    answer = make_resolver(args).txt(name)
    problem: str | None = None
    if not answer.exists:
        problem = f"DNS has no key record at {name} ({answer.status.value})"
    elif len(answer.records) > 1:
        problem = f"DNS serves {len(answer.records)} TXT records at {name}; verifiers need one"
    else:
        served = served_problem(slot, answer.records[0])
        if served is not None:
            problem = f"DNS at {name} serves {served}, not the key in {args.key}"
    if args.json:
        data = {
            "name": name,
            "ok": problem is None,
            "problem": problem,
            "fingerprint": key.fingerprint,
            "chain": list(answer.chain),
        }
        print(json.dumps(data, indent=2))
    elif problem is None:
        via = f" (through {' -> '.join(answer.chain)})" if answer.chain else ""
        print(f"ok: {name} serves the key of {args.key} ({key.fingerprint}){via}")
    else:
        print(f"not ok: {problem}")
    return EXIT_OK if problem is None else EXIT_FAILED
