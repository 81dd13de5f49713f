"""Small helpers shared by the subcommands: exit codes, errors, input and output."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from .._audit import parse_domain_list
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


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def read_domain_file(path: str, *, purpose: str | None = None) -> list[str]:
    """
    A domain list file (``-`` for stdin): one domain per line, ``#`` comments; normalized.
    With ``purpose``, an empty list is an error ("no domains to <purpose>").
    """
    try:
        text = read_input(path).decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    domains = parse_domain_list(text.splitlines(), source=path)
    if purpose is not None and not domains:
        raise CliError(f"{path}: no domains to {purpose}")
    return domains
