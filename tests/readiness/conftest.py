"""Fixtures for the preview tests: the scenario served by a real Knot server and from memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dnsserver import DnsServer
from oxdkim import load_config
from oxdkim._config.values import BrandConfig
from oxdkim._readiness.preview import ReadinessPreview
from oxdkim.resolvers import ZoneFileResolver

from .scenario import RING, SERVFAIL_ZONE, T0, config_text, servfail_names, zones


@pytest.fixture(scope="session")
def preview_server(dns_server_factory: Callable[..., DnsServer]) -> Iterator[DnsServer]:
    """Knot serving the provider and every customer zone (servfail.test broken)."""
    with dns_server_factory(zones(), broken_zones=[SERVFAIL_ZONE]) as server:
        yield server


@pytest.fixture(scope="session")
def preview_memory() -> ZoneFileResolver:
    """The same zone texts, answered from memory (servfail.test fails temporarily)."""
    return ZoneFileResolver.from_text(*zones().values(), failing=servfail_names())


@pytest.fixture(scope="session")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario's brands.toml (its ring directory is not needed: tests pass the ring)."""
    path = tmp_path_factory.mktemp("preview-config") / "brands.toml"
    path.write_text(config_text())
    return path


@pytest.fixture(scope="session")
def brandmail(config_path: Path) -> BrandConfig:
    """The brand that signs aligned by default."""
    return load_config(config_path).brand("brandmail")


@pytest.fixture(scope="session")
def bulkmail(config_path: Path) -> BrandConfig:
    """The brand that signs generic with the provider's own bounce domain."""
    return load_config(config_path).brand("bulkmail")


@pytest.fixture(scope="session")
def preview(brandmail: BrandConfig) -> ReadinessPreview:
    """The preview of brandmail at a fixed time, with its ring given directly."""
    return ReadinessPreview(brandmail, ring=RING, clock=lambda: T0)
