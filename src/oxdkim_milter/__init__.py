"""
oxdkim milter: DKIM signing and verification inside an MTA (Postfix, Sendmail), built on
oxdkim's public API and kilter.service (the milter protocol).

Install with ``pip install 'oxdkim[milter]'``; run ``oxdkim milter --config FILE --socket
inet:127.0.0.1:8891``. The core package stays free of any transport.
"""

from __future__ import annotations

from .config import MilterConfig, load_milter_config, parse_milter_table
from .service import Milter, parse_socket, serve

__all__ = [
    "Milter",
    "MilterConfig",
    "load_milter_config",
    "parse_milter_table",
    "parse_socket",
    "serve",
]
