"""
Public names show their public path: ``oxdkim.Signer``, not ``oxdkim._signing.signer``.

Each public namespace claims the classes and functions it exports (httpx sets
``__module__`` the same way), so reprs, tracebacks, pickles and the API reference name
the place users import from. The first public namespace to export a name keeps it.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Iterable, Mapping

__all__ = ["claim"]


def _private(module: object) -> bool:
    return isinstance(module, str) and any(p.startswith("_") for p in module.split("."))


def _resolve_annotations(cls: type, home: str) -> None:
    """
    Turn a class's own string annotations into objects while its home module is known:
    ``typing.get_type_hints`` looks names up in the module ``__module__`` names, which
    after the claim is the public namespace, where helper types may not be exported.
    """
    annotations = inspect.get_annotations(cls)
    if not annotations:
        return
    namespace = dict(vars(sys.modules[home]))
    namespace.setdefault(cls.__name__, cls)
    resolved = {}
    for name, written in annotations.items():
        resolved[name] = written
        if isinstance(written, str):
            # What cannot be resolved stays as written.
            with contextlib.suppress(Exception):
                resolved[name] = eval(written, namespace, dict(vars(cls)))  # noqa: S307
    cls.__annotations__ = resolved


def claim(namespace: str, names: Iterable[str], values: Mapping[str, object]) -> None:
    """Set ``__module__`` of each exported class or function that still names a private path."""
    for name in names:
        value = values[name]
        home = getattr(value, "__module__", None)
        if not _private(home) or not (isinstance(value, type) or callable(value)):
            continue
        if isinstance(value, type) and isinstance(home, str):
            _resolve_annotations(value, home)
        value.__module__ = namespace
