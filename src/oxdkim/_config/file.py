"""
The configuration file: one TOML file describes the brands, their modes, keys, tenants and
per-domain overrides, and builds a ready :class:`~oxdkim.Signer` in one call.

Validation collects every problem with its place in the file (``brands.acme.tenants.t1[2]``)
instead of stopping at the first, so an operator fixes a file in one pass.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from .._base.domains import DomainSyntaxError, normalize_domain, normalize_selector
from .._base.files import is_path, looks_like_key_text, shown, shown_path
from .._dkim.canon import Canonicalization
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, RSA_DEFAULT_MIN_BITS
from .._dns.dnspython import parse_nameserver
from .._signing.results import DEFAULT_SIGNED_HEADERS, MAX_EXPIRES_IN, SignatureOptions
from .._signing.signer import Signer
from ..exceptions import ConfigFileError, ConfigProblem, ConfigurationError
from ..typing import Observer, SigningPolicy
from .build import build_policy
from .values import (
    ENV_NAME,
    FALLBACKS,
    MAX_RSA_BITS,
    MAX_TIMEOUT,
    MODES,
    OVERRIDES,
    BrandConfig,
    ResolverConfig,
    StoreConfig,
)


def _name(key: object) -> str:
    """A table key for a place in the file, unless it may be key material."""
    text = str(key)
    return text if not looks_like_key_text(text) else f"<{len(text)} characters, not shown>"


class _Checker:
    """Reads a TOML table with typed getters, recording problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def problem(self, place: str, message: str) -> None:
        self.problems.append(ConfigProblem(place, message))

    def unknown_keys(self, table: Mapping[str, Any], place: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                hint = ", ".join(sorted(known))
                self.problem(f"{place}.{_name(key)}", f"unknown setting (known: {hint})")

    def text(self, place: str, value: str) -> str | None:
        """
        ``value`` unless it is empty (which would silently mean "default") or may be key
        material pasted into the wrong setting (which is never echoed).
        """
        if not value.strip():
            self.problem(place, "must not be empty (leave the setting out for its default)")
            return None
        if looks_like_key_text(value):
            self.problem(
                place,
                f"holds {len(value)} characters that may be key material (not shown); "
                "a path or a name goes here, never a key",
            )
            return None
        return value

    def get(
        self, table: Mapping[str, Any], key: str, place: str, kind: type | tuple[type, ...]
    ) -> Any:
        value = table.get(key)
        if value is None:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.problem(f"{place}.{key}", f"must be a number, not {value!r}")
            return None
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(f"{place}.{key}", f"must be a {names}, not {type(value).__name__}")
            return None
        if isinstance(value, str):
            return self.text(f"{place}.{key}", value)
        return value

    def strings(self, table: Mapping[str, Any], key: str, place: str) -> list[str] | None:
        """A list of non-empty strings; each bad entry is reported at ``place.key[i]``."""
        values = self.get(table, key, place, list)
        if values is None:
            return None
        found = []
        for index, value in enumerate(values):
            where = f"{place}.{key}[{index}]"
            if not isinstance(value, str):
                self.problem(where, f"must be a string, not {type(value).__name__}")
            elif (checked := self.text(where, value)) is not None:
                found.append(checked)
        return found

    def convert(self, place: str, value: Any, convert: Callable[[Any], Any]) -> Any:
        if value is None:
            return None
        try:
            return convert(value)
        except (DomainSyntaxError, ConfigurationError, ValueError) as exc:
            self.problem(place, str(exc))
            return None


def _path(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _store(check: _Checker, table: Any, base: Path) -> StoreConfig | None:
    if not isinstance(table, dict):
        check.problem("store", "must be a table")
        return None
    check.unknown_keys(table, "store", {"url", "key_encryption_key_file", "key_encryption_key_env"})
    url = table.get("url")
    if not isinstance(url, str) or not url.strip():
        check.problem("store.url", "required: a libpq connection string (its text is not shown)")
        return None
    kek_file = _path(base, check.get(table, "key_encryption_key_file", "store", str))
    kek_env = check.get(table, "key_encryption_key_env", "store", str)
    if kek_env is not None and not ENV_NAME.match(kek_env):
        check.problem(
            "store.key_encryption_key_env",
            "must name an environment variable, never hold the key itself (not shown)",
        )
        kek_env = None
    if (kek_file is None) == (kek_env is None):
        check.problem(
            "store", "give exactly one of key_encryption_key_file and key_encryption_key_env"
        )
        return None
    return StoreConfig(url, kek_file, kek_env)


_IN_THE_STORE = ("ring", "tenants", "domains", "generic_key")


def _brand(
    check: _Checker, name: str, table: Any, base: Path, store: StoreConfig | None = None
) -> BrandConfig | None:
    place = f"brands.{_name(name)}"
    if not isinstance(table, dict):
        check.problem(place, "must be a table")
        return None
    if _name(name) != name:
        check.problem(place, "a brand's name is a short word; this may be key material")
        return None
    known = {
        "mode", "generic_domain", "generic_selector", "generic_key", "key_host", "ring",
        "fallback", "spf_include", "mail_from", "tenants", "domains", "canonicalization", "headers",
        "oversign", "expire", "min_rsa_bits", "passphrase_env",
    }  # fmt: skip
    check.unknown_keys(table, place, known)
    mode = check.get(table, "mode", place, str)
    if mode is not None and mode not in MODES:
        check.problem(f"{place}.mode", f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    mode = mode if mode in MODES else "generic"
    fallback = check.get(table, "fallback", place, str)
    if fallback is not None and fallback not in FALLBACKS:
        check.problem(
            f"{place}.fallback", f"unknown fallback {fallback!r}; use one of {', '.join(FALLBACKS)}"
        )
    fallback = fallback if fallback in FALLBACKS else "generic"
    generic_domain = check.convert(
        f"{place}.generic_domain", check.get(table, "generic_domain", place, str), normalize_domain
    )
    generic_selector = check.convert(
        f"{place}.generic_selector",
        check.get(table, "generic_selector", place, str),
        normalize_selector,
    )
    generic_key = _path(base, check.get(table, "generic_key", place, str))
    key_host = check.convert(
        f"{place}.key_host",
        check.get(table, "key_host", place, str),
        lambda v: normalize_domain(v, allow_underscore=True),
    )
    ring = _path(base, check.get(table, "ring", place, str))
    spf_include = check.convert(
        f"{place}.spf_include",
        check.get(table, "spf_include", place, str),
        lambda v: normalize_domain(v, allow_underscore=True),
    )
    mail_from = check.get(table, "mail_from", place, str)
    if mail_from is not None:
        probe = mail_from.replace("{domain}", "customer.example")
        check.convert(f"{place}.mail_from", probe, normalize_domain)
    generic_parts = [generic_domain, generic_selector, generic_key]
    wants_generic = mode == "generic" or fallback == "generic"
    if store is not None:
        for key in _IN_THE_STORE:
            if key in table:
                check.problem(
                    f"{place}.{key}",
                    "with [store], the brand's ring, generic key, tenants and domains live "
                    "in the database (oxdkim store import moves them there)",
                )
        generic_parts = [generic_domain, generic_selector, True]
    if wants_generic and not all(generic_parts):
        for key, value in zip(
            ("generic_domain", "generic_selector", "generic_key"), generic_parts, strict=True
        ):
            if not value and key not in table:
                check.problem(f"{place}.{key}", "required for generic signing (mode or fallback)")
    tenants = _tenants(check, table.get("tenants", {}), place)
    domains = _overrides(check, table.get("domains", {}), place)
    wants_legacy = mode == "legacy" or "legacy" in domains.values()
    if wants_legacy:
        needed = (("key_host", key_host), ("ring", ring if store is None else True))
        for key, value in needed:
            if value is None and key not in table:
                check.problem(f"{place}.{key}", "required for aligned (legacy) signing")
    options = _options(check, table, place)
    bits = check.get(table, "min_rsa_bits", place, int)
    if bits is not None and not RSA_ABSOLUTE_MIN_BITS <= bits <= MAX_RSA_BITS:
        check.problem(
            f"{place}.min_rsa_bits",
            f"must be {RSA_ABSOLUTE_MIN_BITS} to {MAX_RSA_BITS} (RFC 8301 forbids smaller "
            f"keys), not {bits}",
        )
        bits = None
    passphrase_env = check.get(table, "passphrase_env", place, str)
    if passphrase_env is not None and not ENV_NAME.match(passphrase_env):
        check.problem(
            f"{place}.passphrase_env",
            "must name an environment variable (letters, digits and _), never hold the "
            "passphrase itself (the value is not shown)",
        )
        passphrase_env = None
    return BrandConfig(
        name=name,
        mode=mode,
        generic_domain=generic_domain,
        generic_selector=generic_selector,
        generic_key=generic_key,
        key_host=key_host,
        ring=ring,
        fallback=fallback,
        spf_include=spf_include,
        mail_from=mail_from.lower() if mail_from else None,
        tenants=tenants,
        domains=domains,
        options=options or SignatureOptions(),
        min_rsa_bits=bits if bits is not None else RSA_DEFAULT_MIN_BITS,
        passphrase_env=passphrase_env,
        store=store,
    )


def _tenants(check: _Checker, table: Any, place: str) -> dict[str, tuple[str, ...]]:
    place = f"{place}.tenants"
    if not isinstance(table, dict):
        check.problem(place, "must be a table of tenant = [domains]")
        return {}
    tenants: dict[str, tuple[str, ...]] = {}
    owner_of: dict[str, str] = {}
    for tenant, domains in table.items():
        if not isinstance(domains, list):
            check.problem(f"{place}.{_name(tenant)}", "must be a list of domains")
            continue
        if _name(tenant) != tenant:
            check.problem(f"{place}.{_name(tenant)}", "a tenant's name may not be key material")
            continue
        normalized = []
        for index, raw in enumerate(domains):
            where = f"{place}.{_name(tenant)}[{index}]"
            if not isinstance(raw, str):
                check.problem(where, "must be a string")
                continue
            domain = check.convert(where, check.text(where, raw), normalize_domain)
            if domain is None:
                continue
            if domain in owner_of and owner_of[domain] != tenant:
                check.problem(where, f"{domain} is also owned by tenant {owner_of[domain]!r}")
                continue
            owner_of[domain] = tenant
            normalized.append(domain)
        tenants[tenant] = tuple(normalized)
    return tenants


def _overrides(check: _Checker, table: Any, place: str) -> dict[str, str]:
    place = f"{place}.domains"
    if not isinstance(table, dict):
        check.problem(place, 'must be a table of "domain" = "generic" | "legacy" | "refuse"')
        return {}
    overrides = {}
    for raw, mode in table.items():
        where = f'{place}."{_name(raw)}"'
        domain = check.convert(where, check.text(where, raw), normalize_domain)
        if not isinstance(mode, str) or mode not in OVERRIDES:
            check.problem(where, f"must be one of {', '.join(OVERRIDES)}, not {shown(mode)}")
            continue
        if domain is not None:
            overrides[domain] = mode
    return overrides


def _options(check: _Checker, table: Mapping[str, Any], place: str) -> SignatureOptions | None:
    canonicalization = check.convert(
        f"{place}.canonicalization",
        check.get(table, "canonicalization", place, str),
        Canonicalization.parse,
    )
    headers = check.strings(table, "headers", place)
    oversign = check.get(table, "oversign", place, bool)
    expire = check.get(table, "expire", place, int)
    if expire is not None and not 1 <= expire <= MAX_EXPIRES_IN:
        check.problem(
            f"{place}.expire",
            f"must be 1 to {MAX_EXPIRES_IN} seconds, not {expire} "
            "(leave it out for signatures without x=)",
        )
        expire = None
    try:
        headers_value = tuple(headers) if headers is not None else DEFAULT_SIGNED_HEADERS
        _ = SignatureOptions(headers=headers_value)
    except ConfigurationError as exc:
        check.problem(f"{place}.headers", str(exc))
        return None
    return SignatureOptions(
        canonicalization=canonicalization or Canonicalization(),
        headers=headers_value,
        oversign=True if oversign is None else oversign,
        expires_in=expire,
    )


def _resolver(check: _Checker, table: Any, base: Path) -> ResolverConfig:
    if not isinstance(table, dict):
        check.problem("resolver", "must be a table")
        return ResolverConfig()
    check.unknown_keys(table, "resolver", {"nameservers", "timeout", "zone_files"})
    nameservers = check.strings(table, "nameservers", "resolver")
    for index, server in enumerate(nameservers or ()):
        check.convert(f"resolver.nameservers[{index}]", server, parse_nameserver)
    if table.get("nameservers") == []:
        check.problem(
            "resolver.nameservers", "must list at least one server (leave it out for the system's)"
        )
    timeout = check.get(table, "timeout", "resolver", (int, float))
    if timeout is not None and not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        check.problem(
            "resolver.timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds"
        )
        timeout = None
    zones = check.strings(table, "zone_files", "resolver") or []
    return ResolverConfig(
        tuple(nameservers) if nameservers else None,
        float(timeout or 5.0),
        tuple(p for p in (_path(base, z) for z in zones) if p is not None),
    )


@attrs.frozen
class Config:
    """A validated configuration file: its brands and resolver settings."""

    path: Path
    brands: Mapping[str, BrandConfig]
    resolver: ResolverConfig

    def brand(self, name: str | None = None) -> BrandConfig:
        """The brand called ``name``; may be omitted when the file has exactly one."""
        if name is None:
            if len(self.brands) != 1:
                raise ConfigurationError(
                    f"{self.path} has {len(self.brands)} brands; name one of "
                    f"{', '.join(sorted(self.brands))}"
                )
            return next(iter(self.brands.values()))
        if isinstance(cast(object, name), str) and name in self.brands:
            return self.brands[name]
        known = ", ".join(sorted(self.brands)) or "none"
        raise ConfigurationError(f"{self.path}: no brand {shown(name)} (brands: {known})")

    def policy(self, name: str | None = None, *, observer: Observer | None = None) -> SigningPolicy:
        """Build the brand's signing policy (loads keys and the ring)."""
        return build_policy(self.brand(name), observer=observer)

    def signer(self, name: str | None = None, *, observer: Observer | None = None) -> Signer:
        """Build a ready :class:`~oxdkim.Signer` for the brand."""
        return Signer(self.policy(name, observer=observer), observer=observer)


def load_config(path: str | os.PathLike[str]) -> Config:
    """
    Read and validate a configuration file.

    Raises:
        ConfigFileError: Every problem found, each with its place in the file.
    """
    if not is_path(path):
        raise ConfigurationError(f"path must be a str or Path, not {type(path).__name__}")
    file = Path(path)
    # Errors are raised outside the except blocks: the original exceptions hold the
    # path and the file's bytes, and even a suppressed __context__ stays attached.
    problem: ConfigProblem | None = None
    raw = b""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        problem = ConfigProblem("(file)", exc.strerror or type(exc).__name__)
    except ValueError:  # an embedded NUL
        problem = ConfigProblem("(file)", "not a file path")
    if problem is not None:
        raise ConfigFileError(shown_path(path), [problem])
    data: dict[str, Any] = {}
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problem = ConfigProblem("(syntax)", str(exc))
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        problem = ConfigProblem(
            "(syntax)", f"not UTF-8 text (byte 0x{byte:02x} at offset {exc.start})"
        )
    if problem is not None:
        raise ConfigFileError(str(file), [problem])
    check = _Checker()
    # [milter] belongs to the milter front-end (oxdkim_milter), which checks it itself.
    check.unknown_keys(data, "(top level)", {"brands", "resolver", "store", "milter"})
    base = file.resolve().parent
    resolver = _resolver(check, data.get("resolver", {}), base)
    store = _store(check, data["store"], base) if "store" in data else None
    brands_table = data.get("brands", {})
    brands: dict[str, BrandConfig] = {}
    if not isinstance(brands_table, dict) or not brands_table:
        check.problem("brands", "define at least one brand: [brands.NAME]")
    else:
        for name, table in brands_table.items():
            brand = _brand(check, name, table, base, store)
            if brand is not None:
                brands[name] = brand
    if check.problems:
        raise ConfigFileError(str(file), check.problems)
    return Config(file, brands, resolver)


def signer_from_config(
    path: str | os.PathLike[str], brand: str | None = None, *, observer: Observer | None = None
) -> Signer:
    """Read the file and build the brand's :class:`~oxdkim.Signer`: one call."""
    return load_config(path).signer(brand, observer=observer)
