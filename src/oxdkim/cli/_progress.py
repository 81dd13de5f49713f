"""A plain-text progress bar for long runs (``oxdkim check``, ``oxdkim preview``)."""

from __future__ import annotations

import argparse
import time
from typing import TextIO


def add_progress_options(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress`` (default: a bar when stderr is a terminal)."""
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    progress.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show it"
    )


class ProgressBar:
    """A plain-text progress bar redrawn in place (``\\r``) at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._start = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, result: object) -> None:
        """Redraw after one more domain (the signature of a progress callback)."""
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-9)
        rate = done / elapsed
        filled = self.WIDTH * done // total if total else self.WIDTH
        eta = f"ETA {(total - done) / rate:.0f}s" if rate and done < total else "done"
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._stream.write(
            f"\r[{bar}] {done:,}/{total:,} {100 * done // max(total, 1):3d}% {rate:,.0f}/s {eta}   "
        )
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
