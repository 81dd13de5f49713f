"""
The ``[milter]`` table of the oxdkim configuration file.

The core loader (:func:`oxdkim.load_config`) accepts the table and ignores it; this module
reads and checks it, collecting every problem with its place, like the core does for the
rest of the file, and raises the same :class:`~oxdkim.ConfigFileError`.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from oxdkim.exceptions import ConfigFileError, ConfigProblem

ON_REFUSAL = ("unsigned", "reject")
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_TIMEOUT = 20.0
MAX_TIMEOUT = 300.0
_MACRO = re.compile(r"\A(?:[A-Za-z_]|\{[A-Za-z_][A-Za-z0-9_]{0,63}\})\Z")
_HOST = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?\Z")
_KNOWN = {
    "brand",
    "authserv_id",
    "on_refusal",
    "tenant_macro",
    "identity_logins",
    "logins",
    "max_message_bytes",
    "max_concurrency",
    "timeout",
    "metrics",
}


@attrs.frozen
class MilterConfig:
    """
    How the milter runs: which brand signs, who the tenant is, what a refusal does.

    Args:
        brand: The brand of the configuration file whose policy signs (``None``: the
            file's only brand).
        authserv_id: The authserv-id of the ``Authentication-Results`` fields the verify
            mode adds (RFC 8601 §2.5), and the one whose forged fields it removes.
        on_refusal: ``"unsigned"`` passes a message the policy refuses on unsigned;
            ``"reject"`` answers ``550 5.7.1``. The reason is logged either way.
        tenant_macro: The milter macro that names the authenticated account, sent by
            the MTA (``{auth_authen}``: the SASL login). Never read from the message.
        logins: login -> tenant.
        identity_logins: A login not in ``logins`` that equals a tenant's name is that
            tenant.
        max_message_bytes: Larger messages are refused (``552 5.3.4`` when signing; a
            ``dkim=policy`` result when verifying); nothing is signed by streaming.
        max_concurrency: Messages signed or verified at once (the rest wait their turn).
        timeout: Seconds one signing or verification may take; past it the MTA gets a
            temporary failure (``451 4.7.1``).
        metrics: ``HOST:PORT`` of a Prometheus endpoint (``/metrics``) with the signer's
            observer metrics and the milter's decisions; none when ``None``.
    """

    brand: str | None = None
    authserv_id: str | None = None
    on_refusal: str = "unsigned"
    tenant_macro: str = "{auth_authen}"
    logins: Mapping[str, str] = attrs.field(factory=dict)
    identity_logins: bool = False
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    metrics: tuple[str, int] | None = None


def parse_milter_table(table: object, path: str = "(config)") -> MilterConfig:
    """
    Check a ``[milter]`` table (already parsed TOML).

    Raises:
        ConfigFileError: Every problem, each at its place (``milter.on_refusal``).
    """
    problems: list[ConfigProblem] = []

    def problem(place: str, message: str) -> None:
        problems.append(ConfigProblem(f"milter.{place}" if place else "milter", message))

    if table is None:
        return MilterConfig()
    if not isinstance(table, dict):
        raise ConfigFileError(path, [ConfigProblem("milter", "must be a table")])
    for key in table:
        if key not in _KNOWN:
            problem(str(key), f"unknown setting; known: {', '.join(sorted(_KNOWN))}")

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            problem(key, "must be a non-empty string")
            return None
        return value

    def integer(key: str, default: int, low: int, high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problem(key, f"must be an integer from {low} to {high}")
            return default
        return value

    brand = text("brand")
    authserv_id = text("authserv_id")
    if authserv_id is not None and not _HOST.match(authserv_id):
        problem("authserv_id", "must be a host name")
        authserv_id = None
    on_refusal = text("on_refusal") or "unsigned"
    if on_refusal not in ON_REFUSAL:
        problem("on_refusal", f"unknown value; use one of {', '.join(ON_REFUSAL)}")
        on_refusal = "unsigned"
    macro = text("tenant_macro") or "{auth_authen}"
    if not _MACRO.match(macro):
        problem("tenant_macro", "must be a milter macro name such as {auth_authen}")
        macro = "{auth_authen}"
    identity = table.get("identity_logins", False)
    if not isinstance(identity, bool):
        problem("identity_logins", "must be true or false")
        identity = False
    logins: dict[str, str] = {}
    raw_logins = table.get("logins", {})
    if not isinstance(raw_logins, dict):
        problem("logins", "must be a table of login = tenant")
    else:
        for login, tenant in raw_logins.items():
            if not isinstance(tenant, str) or not tenant.strip():
                problem(f"logins.{login}", "must name a tenant")
            else:
                logins[str(login)] = tenant
    max_bytes = integer("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES, 1024, 1 << 34)
    concurrency = integer("max_concurrency", DEFAULT_MAX_CONCURRENCY, 1, 1024)
    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT)
    ):
        problem("timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
        timeout = DEFAULT_TIMEOUT
    metrics = None
    metrics_text = text("metrics")
    if metrics_text is not None:
        host, _, port = metrics_text.rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            metrics = (host.strip("[]"), int(port))
        else:
            problem("metrics", "must be HOST:PORT, e.g. 127.0.0.1:9101")
    if problems:
        raise ConfigFileError(path, problems)
    return MilterConfig(
        brand=brand,
        authserv_id=authserv_id,
        on_refusal=on_refusal,
        tenant_macro=macro,
        logins=logins,
        identity_logins=identity,
        max_message_bytes=max_bytes,
        max_concurrency=concurrency,
        timeout=float(timeout),
        metrics=metrics,
    )


def load_milter_config(path: str | os.PathLike[str]) -> MilterConfig:
    """
    Read the ``[milter]`` table of the configuration file at ``path``.

    The rest of the file is the core's: read it with :func:`oxdkim.load_config`, which
    reports unreadable files and syntax errors with their place.

    Raises:
        ConfigFileError: The file cannot be read, or the table has problems.
    """
    file = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(file.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(str(file), [ConfigProblem("(file)", type(exc).__name__)]) from None
    return parse_milter_table(data.get("milter"), str(file))
