"""Small helpers shared by the subcommands: exit codes, errors, input and output."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from .._files import atomic_write

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A command-line problem to report on stderr with an exit code (no traceback)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def error(message: str, code: int) -> int:
    """Print ``message`` on stderr and return ``code``."""
    print(f"oxdkim: error: {message}", file=sys.stderr)
    return code


def read_input(path: str | None) -> bytes:
    """The bytes of ``path``, or of stdin for ``None`` or ``-``."""
    if path is None or path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """
    Write ``data`` to ``path`` with mode 0600 from the first byte, atomically.

    The file is written to a temporary name in the same directory, flushed to disk, and
    renamed over ``path``; readers never see a partial key.
    """
    if path.exists() and not overwrite:
        raise CliError(f"{path} exists; use --force to replace it")
    try:
        atomic_write(path, data, mode=0o600)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}", EXIT_FAILED) from None


_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last time datetime can hold


def unix_time(text: str) -> datetime:
    """argparse type: UNIX seconds (0 to year 9999) as an aware UTC datetime."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= seconds <= _LAST_SECOND:
        raise argparse.ArgumentTypeError(f"{text} is outside 0 .. {_LAST_SECOND}")
    return datetime.fromtimestamp(seconds, UTC)


def read_text_file(path: Path) -> str:
    """A UTF-8 text file's content, or a usage error naming the file."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start})") from None


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
