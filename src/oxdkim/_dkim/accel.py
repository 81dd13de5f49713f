"""
The optional C accelerator (``oxdkim._speedups``), or ``None``: not built, or turned off
with ``OXDKIM_PURE_PYTHON`` (every pass then runs its pure-Python reference).
"""

from __future__ import annotations

import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("OXDKIM_PURE_PYTHON"):
        return None
    try:
        from .. import _speedups  # noqa: PLC0415 - optional, built from C
    except ImportError:
        return None
    return _speedups


speedups = _load()
