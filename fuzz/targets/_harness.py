"""
What every fuzz target shares: instrumented imports of oxdkim and the libFuzzer entry.

A target module defines ``test_one_input(data: bytes) -> None`` that lets oxdkim's own
exceptions (``OxDkimError``) pass and checks its invariants with ``assert``; any other
exception (or a failed assert, a hang past ``-timeout``, memory past ``-rss_limit_mb``)
is a crash that libFuzzer reports and saves as ``crash-*``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import atheris


def run(test_one_input: Callable[[bytes], None]) -> None:
    """Hand ``test_one_input`` to libFuzzer with the command-line options."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
