"""``--config FILE [--brand NAME]``: the options of every command that needs a brand."""

from __future__ import annotations

import argparse

from .._config.build import open_store, with_stored_domains
from .._config.file import Config, load_config
from .._config.values import BrandConfig
from .._store.postgres import PostgresStore
from ._common import CliError, check_text_files


def add_config_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """Add ``--config`` and ``--brand``."""
    parser.add_argument(
        "--config", metavar="FILE", required=required, help="brand configuration file (TOML)"
    )
    parser.add_argument("--brand", help="brand in the file (needed when it has several)")


def load(args: argparse.Namespace) -> tuple[Config, BrandConfig] | None:
    """The file and brand the options name, or ``None`` without ``--config``."""
    if not args.config:
        return None
    check_text_files([args.config], "configuration file")
    config = load_config(args.config)
    return config, with_stored_domains(config.brand(args.brand))


def stored_brand(args: argparse.Namespace) -> tuple[BrandConfig, PostgresStore]:
    """The brand ``--config``/``--brand`` name and its PostgreSQL store (not followed:
    the commands that use it run once)."""
    check_text_files([args.config], "configuration file")
    brand = load_config(args.config).brand(args.brand)
    if brand.store is None:
        raise CliError(f"{args.config} has no [store] table: the brand lives in the file")
    return brand, open_store(brand.store, follow=False)
