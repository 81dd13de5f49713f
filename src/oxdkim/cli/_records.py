"""``oxdkim records``: every DNS record a brand needs, as a zone fragment or JSON."""

from __future__ import annotations

import argparse

from .._config.build import open_store, ring_store
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, SigningKey
from .._keys.keystore import FileKeyStore
from .._keys.records import brand_records, records_json, render_zone
from .._keys.ringstate import RingSnapshot
from ._common import EXIT_OK, CliError, add_domain_options, given_domains
from ._configopts import add_config_options, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "records",
        help="print the DNS records a brand must publish (zone fragment or JSON)",
        description="Render the brand's records: the generic key, the key ring's TXT "
        "records at the key host, and the two CNAMEs of every legacy customer domain.",
    )
    parser.add_argument("--ring", metavar="RING_DIR", help="the brand's key ring directory")
    parser.add_argument(
        "--generic",
        metavar="DOMAIN:SELECTOR:KEYFILE",
        help="the generic signing domain, selector and private key file",
    )
    add_domain_options(parser, "legacy customer domains whose CNAMEs to list")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a zone")
    add_config_options(parser)
    parser.set_defaults(func=run)


def _domains(args: argparse.Namespace) -> list[str]:
    return given_domains(args, purpose=None) or []


def run(args: argparse.Namespace) -> int:
    """Collect and print."""
    generic: tuple[str, str, SigningKey] | None = None
    ring: RingSnapshot | None = None
    chosen = load(args)
    if chosen is not None:
        _, brand = chosen
        if brand.generic_key and not args.generic:
            args.generic = f"{brand.generic_domain}:{brand.generic_selector}:{brand.generic_key}"
        if brand.ring and not args.ring:
            args.ring = str(brand.ring)
        if brand.store is not None:
            stored = open_store(brand.store, follow=False)
            key = stored.generic_key(brand.name)
            if key is not None and brand.generic_domain and brand.generic_selector:
                generic = (brand.generic_domain, brand.generic_selector, key)
            if not args.ring:
                ring = ring_store(brand, stored).load()
        args.domain = [*args.domain, *brand.legacy_domains]
    if args.generic:
        parts = args.generic.split(":", 2)
        if len(parts) != 3:
            raise CliError("--generic takes DOMAIN:SELECTOR:KEYFILE")
        generic = (
            parts[0],
            parts[1],
            SigningKey.from_file(parts[2], min_rsa_bits=RSA_ABSOLUTE_MIN_BITS),
        )
    if args.ring:
        ring = FileKeyStore(args.ring, min_rsa_bits=RSA_ABSOLUTE_MIN_BITS).load()
    if generic is None and ring is None:
        raise CliError("give --config, or --ring and/or --generic")
    records = brand_records(ring=ring, generic=generic, legacy_domains=_domains(args))
    if args.json:
        print(records_json(records))
    else:
        print(
            render_zone(records, header="oxdkim records: publish these (names are absolute)"),
            end="",
        )
    return EXIT_OK
