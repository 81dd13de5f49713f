"""
What oxdkim tells the service that embeds it: one frozen value per decision, given to the
caller's observer (:class:`~oxdkim.typing.Observer`) and logged on the ``oxdkim`` logger.

The floor, so that every layer emits the same values: the signer (signed, refused), the
key stores (reloaded, unreachable). Events carry labels, counts and times, never key
material, message bodies or header fields. ``Refused.kind`` is a closed set
(``REFUSAL_KINDS``) so that a metric labelled with it stays small.

An observer runs on the signing thread: it must be quick and thread-safe. One that raises
never breaks signing: its first failure is logged at WARNING (with the traceback), later
ones at DEBUG.
"""

from __future__ import annotations

import logging
import threading
from typing import Final, Protocol

import attrs

__all__ = [
    "MODES",
    "REFUSAL_KINDS",
    "RELOAD_KINDS",
    "Event",
    "KeysReloaded",
    "Refused",
    "Signed",
    "StoreUnreachable",
    "emit",
    "logger",
]

logger: Final = logging.getLogger("oxdkim")
# A library adds no handler of its own; this one only keeps logging's last resort from
# printing oxdkim's warnings on stderr of a service that configured no logging.
logger.addHandler(logging.NullHandler())

_DEBUG, _INFO, _WARNING = logging.DEBUG, logging.INFO, logging.WARNING

REFUSAL_KINDS: Final = frozenset(
    {
        # The policy decided not to sign (SigningRefusedError), or could not (PolicyError).
        "policy",
        # A MessageFormatError: its MessageProblem code.
        "nul-byte",
        "bare-cr",
        "no-colon",
        "bad-field-name",
        "leading-continuation",
        "empty",
        "no-from",
        "multiple-from",
        "multiple-addresses",
        "no-address",
        "group",
        "route",
        "encoded-word",
        "bad-address",
        "bad-domain",
        "domain-literal",
        "too-large",
        # No key valid at the signing time (NoActiveKeyError).
        "no-active-key",
        # The key store could not give the keys (KeyStoreError).
        "store",
        # A key could not be loaded or the ring is unusable (KeyLoadError, KeyRingError).
        "key",
        # The crypto backend failed (SigningError).
        "signing-error",
        # The configuration or the clock was unusable (ConfigurationError).
        "configuration",
        # Input of the wrong type (TypeError), e.g. str chunks.
        "bad-input",
        # Anything else: a bug, or a policy that raised something unexpected.
        "other",
    }
)
"""Every value ``Refused.kind`` takes: metrics labelled with it have at most these series."""


RELOAD_KINDS: Final = frozenset({"ring", "generic-key", "domains", "all"})
"""Every value ``KeysReloaded.what`` takes."""

MODES: Final = frozenset({"aligned", "generic", "mixed"})
"""Every value ``Signed.mode`` takes."""


@attrs.frozen
class Signed:
    """
    A message was signed.

    ``mode`` is ``"aligned"`` when every ``d=`` is the From domain or a parent or child
    of it, ``"generic"`` when none is, ``"mixed"`` otherwise (an aligned signature plus
    the provider's own). ``algorithms`` holds one ``a=`` per signature, in order;
    ``domains`` and ``selectors`` the ``d=`` and ``s=`` (for logs: never a metric label).
    ``seconds`` is the time the call took.
    """

    policy: str
    mode: str
    algorithms: tuple[str, ...]
    signatures: int
    seconds: float
    domains: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()


@attrs.frozen
class Refused:
    """
    A message was not signed.

    ``reason`` is the human text (for logs); ``kind`` its bounded label for metrics:
    ``"policy"``, a :class:`~oxdkim.MessageProblem` code such as ``"bare-cr"``, or one of
    the few others listed in :doc:`/observability`. ``policy`` names the deciding policy
    (the signer's policy when the message was refused before any decision).
    """

    policy: str
    reason: str
    kind: str = attrs.field(validator=attrs.validators.in_(REFUSAL_KINDS))
    seconds: float


@attrs.frozen
class KeysReloaded:
    """
    A store reloaded keys or domains.

    ``what`` is ``"ring"``, ``"generic-key"``, ``"domains"`` or ``"all"``; ``brand`` the
    brand whose data it was (``None`` for all brands).
    """

    brand: str | None
    what: str = attrs.field(validator=attrs.validators.in_(RELOAD_KINDS))
    seconds: float


@attrs.frozen
class StoreUnreachable:
    """
    A store could not be reached; signing goes on with the last good state.

    ``store`` describes it without its password; ``error`` is a short text.
    """

    store: str
    error: str


Event = Signed | Refused | KeysReloaded | StoreUnreachable
"""Every event oxdkim emits."""


class _Observer(Protocol):
    # oxdkim.typing.Observer, restated: the floor imports nothing above it.
    def observe(self, event: Event, /) -> None: ...


_failed: set[type] = set()
_failed_lock = threading.Lock()


def emit(observer: _Observer | None, event: Event) -> None:
    """
    Give ``event`` to ``observer`` (if any) and log it.

    A failing observer is logged, never raised: signing must not depend on metrics.
    """
    if observer is not None:
        try:
            observer.observe(event)
        except Exception:
            _observer_failed(observer)
    _log(event)


def _observer_failed(observer: object) -> None:
    with _failed_lock:
        first = type(observer) not in _failed
        _failed.add(type(observer))
    logger.log(
        _WARNING if first else _DEBUG,
        "observer %s raised; the event is dropped and signing goes on",
        type(observer).__qualname__,
        exc_info=True,
    )


def _log(event: Event) -> None:
    """One line per event, formatted only when its level is on."""
    if type(event) is Signed:
        if logger.isEnabledFor(_DEBUG):
            logger.debug(
                "signed: policy=%s mode=%s signatures=%d %s seconds=%.6f",
                event.policy,
                event.mode,
                event.signatures,
                " ".join(
                    f"(a={a} d={d} s={s})"
                    for a, d, s in zip(
                        event.algorithms, event.domains, event.selectors, strict=False
                    )
                )
                or " ".join(event.algorithms),
                event.seconds,
                extra={"oxdkim_event": event},
            )
    elif type(event) is Refused:
        if logger.isEnabledFor(_WARNING):
            logger.warning(
                "not signed: policy=%s kind=%s reason=%s seconds=%.6f",
                event.policy,
                event.kind,
                event.reason,
                event.seconds,
                extra={"oxdkim_event": event},
            )
    elif type(event) is KeysReloaded:
        if logger.isEnabledFor(_INFO):
            logger.info(
                "keys reloaded: brand=%s what=%s seconds=%.6f",
                event.brand if event.brand is not None else "*",
                event.what,
                event.seconds,
                extra={"oxdkim_event": event},
            )
    elif type(event) is StoreUnreachable and logger.isEnabledFor(_WARNING):
        logger.warning(
            "store unreachable: store=%s error=%s; signing goes on with the last good state",
            event.store,
            event.error,
            extra={"oxdkim_event": event},
        )
