"""A recording observer, a brand and the DNS records dkimpy verifies its signatures with."""

from __future__ import annotations

import threading

from oxdkim.testing import TestBrand, test_key
from oxdkim.typing import Event
from signing.helpers import records_for


class Recorder:
    """An observer that keeps every event, in order (thread-safe)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def observe(self, event: Event, /) -> None:
        with self._lock:
            self.events.append(event)


def brand_records(brand: TestBrand, algorithm: str) -> dict[str, str]:
    """TXT records for the brand's aligned (mail1) and generic keys, as dkimpy reads them."""
    return records_for(
        *[(domain, "mail1", test_key(algorithm, seed=1)) for domain in brand.domains],
        (brand.generic_domain, brand.generic_selector, test_key(algorithm, seed=0)),
    )
