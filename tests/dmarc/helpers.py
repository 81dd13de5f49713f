"""Helpers for the DMARC tests: a recording resolver over the real in-memory zone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oxdkim import CnameAnswer, TxtAnswer
from oxdkim.resolvers import InlineAsyncResolver, InMemoryZone

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "dmarc"
PSL_SNAPSHOT = VECTORS / "psl" / "public_suffix_list.dat"


def load_cases(name: str) -> list[dict[str, Any]]:
    """The ``cases`` of a JSON vector file in tests/vectors/dmarc."""
    cases: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["cases"]
    return cases


class Recording:
    """A Resolver that records the TXT names asked, in order, then asks the real zone."""

    def __init__(self, inner: InMemoryZone) -> None:
        self.inner = inner
        self.names: list[str] = []

    def txt(self, name: str) -> TxtAnswer:
        self.names.append(name)
        return self.inner.txt(name)

    def cname(self, name: str) -> CnameAnswer:
        return self.inner.cname(name)


def zone(records: Mapping[str, Any] | None = None, **kwargs: Any) -> InMemoryZone:
    """An in-memory zone of TXT records (other names are NXDOMAIN)."""
    return InMemoryZone(records or {}, **kwargs)


def recording(records: Mapping[str, Any] | None = None, **kwargs: Any) -> Recording:
    """A recording resolver over a fresh in-memory zone."""
    return Recording(zone(records, **kwargs))


def as_async(resolver: Recording | InMemoryZone) -> InlineAsyncResolver:
    """The same resolver, asynchronous."""
    return InlineAsyncResolver(resolver)
