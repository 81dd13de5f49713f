"""
``oxdkim store``: create the PostgreSQL store, move a brand from files into it and back.

``init`` creates or migrates the schema (idempotent). ``import`` reads a brand as a
file-configured ``--source`` file describes it (ring directory, generic key, tenants and
per-domain modes) and writes it in one transaction per part; ``export`` writes it back
out as a ring directory, a key file and a TOML fragment, the way back from the database.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .._config.build import _passphrase, key_encryption_key, ring_store
from .._config.file import load_config
from .._config.values import BrandConfig
from .._dkim.crypto import SigningKey
from .._keys.keystore import FileKeyStore
from .._store.postgres import BrandData, PostgresStore
from .._store.ring import PostgresKeyStore
from ._common import EXIT_OK, CliError, check_text_files, write_private_file
from ._configopts import add_config_options, stored_brand


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "store",
        help="create the PostgreSQL store; import a brand from files, or export it",
        description="The PostgreSQL store named in the configuration's [store] table.",
    )
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    init = steps.add_parser("init", help="create or migrate the schema (idempotent)")
    add_config_options(init, required=True)
    imported = steps.add_parser(
        "import", help="copy a brand's ring, generic key, tenants and domains from files"
    )
    add_config_options(imported, required=True)
    imported.add_argument(
        "--source", metavar="OLD.toml", required=True,
        help="the file-based configuration that describes the brand today",
    )  # fmt: skip
    imported.add_argument(
        "--replace", action="store_true", help="overwrite the brand's domains in the database"
    )
    exported = steps.add_parser("export", help="write a brand back out as files")
    add_config_options(exported, required=True)
    exported.add_argument("--ring-dir", metavar="DIR", help="create this ring directory")
    exported.add_argument("--generic-key-file", metavar="FILE", help="write the generic key")
    exported.add_argument(
        "--tenants-file", metavar="FILE", help="write [tenants] and [domains] as TOML"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one step."""
    if args.step == "init":
        check_text_files([args.config], "configuration file")
        config = load_config(args.config)
        stores = {b.store for b in config.brands.values() if b.store is not None}
        if not stores:
            raise CliError(f"{args.config} has no [store] table")
        for settings in stores:
            store = PostgresStore(settings.url, key_encryption_key(settings))
            version = store.initialize()
            print(f"{store.description}: oxdkim schema {version}")
        return EXIT_OK
    brand, store = stored_brand(args)
    if args.step == "import":
        return _import(args, brand, store)
    return _export(args, brand, store)


def _import(args: argparse.Namespace, brand: BrandConfig, store: PostgresStore) -> int:
    check_text_files([args.source], "configuration file")
    source = load_config(args.source).brand(brand.name)
    if source.store is not None:
        raise CliError(f"{args.source}: brand {brand.name} already lives in a store")
    generic = None
    if source.generic_key is not None:
        generic = SigningKey.from_file(
            source.generic_key, password=_passphrase(source), min_rsa_bits=source.min_rsa_bits
        )
    data = BrandData(source.tenants, source.domains, generic)
    store.import_brand(brand.name, data, replace=args.replace)
    if source.ring is not None:
        snapshot = ring_store(source).load()
        PostgresKeyStore(store, brand.name).save(snapshot)
    domains = sum(len(d) for d in source.tenants.values())
    print(
        f"brand {brand.name}: {len(source.tenants)} tenants, {domains} domains, "
        f"{len(source.domains)} per-domain modes, generic key "
        f"{'imported' if generic else 'none'}, ring {'imported' if source.ring else 'none'} "
        f"into {store.description}"
    )
    return EXIT_OK


def _export(args: argparse.Namespace, brand: BrandConfig, store: PostgresStore) -> int:
    if not (args.ring_dir or args.generic_key_file or args.tenants_file):
        raise CliError("give --ring-dir, --generic-key-file and/or --tenants-file")
    data = store.brand_data(brand.name)
    if args.ring_dir:
        snapshot = PostgresKeyStore(store, brand.name).load()
        FileKeyStore.create(args.ring_dir, snapshot, min_rsa_bits=brand.min_rsa_bits)
        print(f"ring written to {args.ring_dir}")
    if args.generic_key_file:
        if data.generic_key is None:
            raise CliError(f"brand {brand.name} has no generic key in the store")
        write_private_file(Path(args.generic_key_file), data.generic_key.private_pem())
        print(f"generic key written to {args.generic_key_file}")
    if args.tenants_file:
        lines = [f"[brands.{brand.name}.tenants]"]
        lines += [f"{json.dumps(t)} = {json.dumps(list(d))}" for t, d in data.tenants.items()]
        lines += ["", f"[brands.{brand.name}.domains]"]
        lines += [f"{json.dumps(d)} = {json.dumps(m)}" for d, m in data.overrides.items()]
        write_private_file(Path(args.tenants_file), ("\n".join(lines) + "\n").encode())
        print(f"tenants and domains written to {args.tenants_file}")
    return EXIT_OK
