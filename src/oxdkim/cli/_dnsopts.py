"""DNS options shared by the commands that read DNS: zone files or a name server."""

from __future__ import annotations

import argparse

from ..typing import Resolver
from ._common import CliError, check_text_files


def add_dns_options(parser: argparse.ArgumentParser) -> None:
    """``--zone FILE`` (repeatable) or ``--nameserver HOST[:PORT]`` (repeatable)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--zone",
        action="append",
        metavar="FILE",
        help="answer DNS from this RFC 1035 zone file (repeatable; offline)",
    )
    group.add_argument(
        "--nameserver",
        action="append",
        metavar="HOST[:PORT]",
        help="ask this DNS server (repeatable; default: the system resolver)",
    )
    parser.add_argument(
        "--dns-timeout", type=float, default=5.0, metavar="SECONDS", help="DNS lifetime"
    )


def make_resolver(args: argparse.Namespace) -> Resolver:
    """The resolver the options ask for."""
    from .. import resolvers  # noqa: PLC0415 - only commands that read DNS load dnspython

    if args.zone:
        check_text_files(args.zone, "zone file")
        # Offline files, not a server: a key written as one over-long string is read as
        # the several strings a server would have needed (RFC 6376 §3.6.2.2 joins them).
        return resolvers.ZoneFileResolver(*args.zone, split_long_strings=True)
    factory = getattr(resolvers, "DnspythonResolver", None)
    if factory is None:  # pragma: no cover - during development only
        raise CliError("querying a name server is not available in this build; use --zone")
    resolver: Resolver = factory(nameservers=args.nameserver, timeout=args.dns_timeout)
    return resolver
