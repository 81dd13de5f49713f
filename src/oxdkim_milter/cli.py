"""``oxdkim milter``: the subcommand, registered by ``oxdkim.cli`` when the extra is installed."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import anyio

from .config import load_milter_config
from .service import MODES, parse_socket, serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``oxdkim milter``."""
    parser.add_argument("--config", required=True, metavar="FILE", help="the oxdkim TOML file")
    parser.add_argument(
        "--socket",
        required=True,
        action="append",
        metavar="SPEC",
        help="where the MTA connects: inet:127.0.0.1:PORT or unix:PATH (repeatable)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="sign",
        help="what the --socket listeners do: sign outbound or verify inbound mail",
    )
    parser.add_argument(
        "--verify-socket",
        action="append",
        default=[],
        metavar="SPEC",
        help="a listener that verifies, in the same process (repeatable)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM, how long to let messages in flight finish",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )


def run(args: Any) -> int:
    """Check the file and the socket, then serve until SIGTERM/SIGINT (SIGHUP reloads)."""
    listeners = [(spec, args.mode) for spec in args.socket]
    listeners += [(spec, "verify") for spec in args.verify_socket]
    for spec, _ in listeners:
        parse_socket(spec)
    load_milter_config(args.config)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    # kilter logs every connection at INFO; its warnings (failed filters) are kept.
    logging.getLogger("kilter").setLevel(max(logging.WARNING, logging.getLogger().level))
    anyio.run(lambda: serve(Path(args.config), listeners, grace=args.grace))
    return 0
