"""Fixtures for the audit tests: the scenario served by a real Knot server and from memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dnsserver import DnsServer
from oxdkim.audit import DelegationAuditor
from oxdkim.resolvers import ZoneFileResolver

from .scenario import OTHER_BRAND, RINGS, SERVFAIL_ZONE, T0, Case, servfail_names, zones


def fixed_clock() -> object:
    return T0


def auditor_for(case: Case) -> DelegationAuditor:
    """The auditor a case is checked with: its ring variant and key host, a fixed clock."""
    return DelegationAuditor(
        RINGS[case.ring],
        key_host=case.key_host,
        known_key_hosts=[OTHER_BRAND],
        clock=lambda: T0,
    )


@pytest.fixture(scope="session")
def scenario_server(dns_server_factory: Callable[..., DnsServer]) -> Iterator[DnsServer]:
    """Knot serving the key hosts and every customer zone (servfail.test broken)."""
    with dns_server_factory(zones(), broken_zones=[SERVFAIL_ZONE]) as server:
        yield server


@pytest.fixture(scope="session")
def memory_zone() -> ZoneFileResolver:
    """The same zone texts, answered from memory (servfail.test fails temporarily)."""
    return ZoneFileResolver.from_text(*zones().values(), failing=servfail_names())
