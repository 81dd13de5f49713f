"""``oxdkim domains add|remove|list``: a tenant's domains in the PostgreSQL store."""

from __future__ import annotations

import argparse
import json

from ._common import EXIT_FAILED, EXIT_OK
from ._configopts import add_config_options, stored_brand


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "domains",
        help="add, remove or list a tenant's domains in the PostgreSQL store",
        description="Change a brand's domains in the store; running signers follow "
        "within a second, no restart.",
    )
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    for step, purpose in (
        ("add", "give domains to a tenant"),
        ("remove", "take domains away"),
        ("list", "list the brand's domains"),
    ):
        sub = steps.add_parser(step, help=purpose)
        add_config_options(sub, required=True)
        sub.add_argument("--tenant", required=step == "add", help="the tenant")
        if step != "list":
            sub.add_argument("domain", nargs="+", metavar="DOMAIN")
        if step == "add":
            sub.add_argument(
                "--override",
                choices=("generic", "legacy", "refuse"),
                help="the domain's own mode, as in the file's domains table (default: the brand's)",
            )
        if step == "list":
            sub.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one step."""
    brand, store = stored_brand(args)
    if args.step == "add":
        added = store.add_domains(brand.name, args.tenant, args.domain, mode=args.override)
        print(f"{len(added)} domains of tenant {args.tenant}: {', '.join(added)}")
        return EXIT_OK
    if args.step == "remove":
        removed = store.remove_domains(brand.name, args.domain, tenant=args.tenant)
        print(f"{removed} domains removed")
        return EXIT_OK if removed == len(args.domain) else EXIT_FAILED
    entries = store.domains(brand.name, args.tenant)
    if args.json:
        rows = [
            {"domain": e.domain, "tenant": e.tenant, "mode": e.mode, "problem": e.problem}
            for e in entries
        ]
        print(json.dumps(rows, indent=2))
    else:
        for e in entries:
            extra = f" ({e.mode})" if e.mode else ""
            extra += f" UNUSABLE: {e.problem}" if e.problem else ""
            print(f"{e.domain}\t{e.tenant or '-'}{extra}")
    return EXIT_OK
