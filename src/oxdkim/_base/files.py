"""Atomic file writes: a reader sees the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
from pathlib import Path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """
    Write ``data`` to ``path`` atomically, with ``mode`` from the first byte: a temporary
    file in the same directory, fsync, rename, directory fsync.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


# --- values that may be key material --------------------------------------------------

_B64_RUN = re.compile(r"[A-Za-z0-9+/=]{16,}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")
_MAX_SHOWN = 4096


def looks_like_key_text(text: str) -> bool:
    """
    Whether ``text`` could be key material rather than a name or a path: PEM armour,
    line breaks, control characters, something longer than any path, or a run of base64
    or hex: 16 or more hex digits, 16 or more base64 characters mixing upper and lower
    case with a digit, ``+`` or ``=``, or 32 or more mixing upper and lower case.

    Messages never echo such a value: an operator who pasted a key where a path goes
    must not find it again in a log, a traceback or a support ticket.
    """
    if len(text) > _MAX_SHOWN or "-----" in text:
        return True
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return True
    if _HEX_RUN.search(text):
        return True
    for match in _B64_RUN.finditer(text):
        run = match.group()
        if not (any(c.isupper() for c in run) and any(c.islower() for c in run)):
            continue
        if len(run) >= 32 or any(c.isdigit() or c in "+=" for c in run):
            return True
    return False


def shown(value: object, *, what: str = "value") -> str:
    """
    A bounded description of ``value`` that is safe in a message: the text itself
    (quoted) when it cannot be key material, otherwise only its length.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(text, bytes):
        return f"a {what} of {len(text)} bytes (not shown)"
    if not isinstance(text, str):
        return f"a {type(value).__name__}"
    if looks_like_key_text(text):
        return f"a {what} of {len(text)} characters that may be key material (not shown)"
    return repr(text)


def shown_path(value: object) -> str:
    """
    ``value`` as a path for a message: itself when it names something that exists or
    cannot be key material, otherwise a description without its content.
    """
    text = os.fspath(value) if isinstance(value, str | os.PathLike) else None
    if isinstance(text, str):
        if not looks_like_key_text(text) or os.path.lexists(text):
            return text
        if "-----BEGIN" in text:
            return f"PEM text of {len(text)} characters given as a path (not shown)"
        if "\n" not in text and len(text) <= _MAX_SHOWN:
            # What exists on disk is a name, not key material: say where the path leads.
            for parent in Path(text).parents:
                if str(parent) not in (".", "/") and os.path.isdir(parent):
                    rest = len(text) - len(str(parent))
                    return (
                        f"a path in {parent} ({rest} more characters not shown: "
                        "they may be key material)"
                    )
    return shown(value, what="path")


def is_whole_number(value: object) -> bool:
    """An ``int`` that is not a ``bool`` (callers pass anything, whatever the types say)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_path(value: object) -> bool:
    """A ``str`` or :class:`~pathlib.Path`, as a path argument must be."""
    return isinstance(value, str | os.PathLike)


def is_seconds(value: object) -> bool:
    """A finite, non-negative number of seconds (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


MAX_SMALL_FILE = 1 << 20
"""The most a key file or ring state may hold (1 MiB): real ones hold a few kilobytes."""


class FileTooLargeError(OSError):
    """A file that should be small is not (``/dev/zero`` given as a key file)."""

    def __init__(self, limit: int) -> None:
        super().__init__(0, f"larger than {limit // 1024} KiB: not a key or ring file")


def read_small_file(path: Path, limit: int = MAX_SMALL_FILE) -> bytes:
    """
    The bytes of ``path``, at most ``limit`` of them: a key file or a ring state is small,
    and reading a device or a huge file by mistake must not exhaust memory.
    """
    with open(path, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(limit)
    return data
