"""The validated values of a configuration file: a brand and the resolver settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import attrs

from .._signing.results import SignatureOptions

MODES = ("generic", "legacy")
OVERRIDES = ("generic", "legacy", "refuse")
FALLBACKS = ("generic", "refuse")
MAX_RSA_BITS = 16384
"""The largest ``min_rsa_bits``: above it no key oxdkim can make would load."""
MAX_TIMEOUT = 300.0
"""The longest ``resolver.timeout`` in seconds."""
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@attrs.frozen
class ResolverConfig:
    """How oxdkim reads DNS: name servers, or zone files for offline work."""

    nameservers: tuple[str, ...] | None = None
    timeout: float = 5.0
    zone_files: tuple[Path, ...] = ()


@attrs.frozen
class StoreConfig:
    """
    The PostgreSQL store holding the brands' rings, generic keys, tenants and domains.
    ``url`` is never shown (it may hold a password); the key-encryption key comes from a
    file or an environment variable, never from this file.
    """

    url: str = attrs.field(repr=False)
    key_encryption_key_file: Path | None = None
    key_encryption_key_env: str | None = None


@attrs.frozen
class BrandConfig:
    """One brand, validated. Paths are absolute (resolved against the file's folder)."""

    name: str
    mode: str
    generic_domain: str | None
    generic_selector: str | None
    generic_key: Path | None
    key_host: str | None
    ring: Path | None
    fallback: str
    spf_include: str | None
    mail_from: str | None
    tenants: Mapping[str, tuple[str, ...]]
    domains: Mapping[str, str]
    options: SignatureOptions
    min_rsa_bits: int
    passphrase_env: str | None
    store: StoreConfig | None = None
    """Where the ring, generic key, tenants and domains live when not in files."""

    def mail_from_domain(self, domain: str) -> str | None:
        """
        The MAIL FROM (bounce) domain used for mail from ``domain``: the configured
        ``mail_from``, where ``{domain}`` stands for the customer domain.
        """
        return self.mail_from.replace("{domain}", domain) if self.mail_from else None

    @property
    def legacy_domains(self) -> tuple[str, ...]:
        """Every tenant domain that signs aligned (by default or by override)."""
        found = []
        for domains in self.tenants.values():
            for domain in domains:
                mode = self.domains.get(domain, self.mode)
                if mode == "legacy":
                    found.append(domain)
        return tuple(found)
