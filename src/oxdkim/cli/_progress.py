"""A plain-text progress bar for long runs (``oxdkim check``, ``oxdkim preview``)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

_T = TypeVar("_T")

# The ETA is a guess from the rate so far; before this much work it is noise (the first
# domains wait for DNS answers that later ones find in the cache).
_ETA_AFTER_SECONDS = 1.0


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


def wanted(progress: bool | None, stream: TextIO) -> bool:
    """``--progress``/``--no-progress`` if given, else whether ``stream`` is a terminal."""
    if progress is not None:
        return progress
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressBar:
    """
    A plain-text progress bar redrawn in place (``\\r``) at most ten times a second.

    The clock starts at the first domain (not when the bar is made), so loading a zone file
    counts neither in the rate nor in the ETA; the ETA appears after a second of work.
    """

    WIDTH = 30

    _stream: TextIO
    _start: float | None
    _last: float
    _drawn: bool

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._start = None
        self._last = 0.0
        self._drawn = False

    def loading(self, what: str, load: Callable[[], _T]) -> _T:
        """Run ``load()`` with a ``loading WHAT ...`` line on the stream, then its time."""
        self._stream.write(f"loading {what} ...")
        self._stream.flush()
        started = time.monotonic()
        try:
            value = load()
        finally:
            self._stream.write(f" {time.monotonic() - started:.1f} s\n")
            self._stream.flush()
        return value

    def __call__(self, done: int, total: int, result: object) -> None:
        """Redraw after one more domain (the signature of a progress callback)."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        elapsed = now - self._start
        rate = done / elapsed if elapsed > 0 else 0.0
        filled = self.WIDTH * done // total if total else self.WIDTH
        if done >= total:
            eta = "done"
        elif elapsed >= _ETA_AFTER_SECONDS and rate > 0:
            eta = f"ETA {_duration((total - done) / rate)}"
        else:
            eta = "ETA ..."
        speed = f"{rate:,.0f}/s" if elapsed >= _ETA_AFTER_SECONDS or done >= total else "-/s"
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._stream.write(
            f"\r[{bar}] {done:,}/{total:,} {100 * done // max(total, 1):3d}% {speed} {eta}   "
        )
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


@contextmanager
def progress_bar(show: bool, stream: TextIO) -> Iterator[ProgressBar | None]:
    """A bar on ``stream`` when ``show``, closed (its line ended) however the run ends."""
    bar = ProgressBar(stream) if show else None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()
