"""
:class:`PrometheusObserver`: oxdkim's events as Prometheus counters and histograms.

``prometheus_client`` is an optional extra (``oxdkim[metrics]``), imported here only, and
only when an observer is built: ``import oxdkim`` works without it. The registry is the
caller's; the library starts no HTTP exporter. Labels are bounded (mode, algorithm,
refusal kind, reload kind): no domain, tenant, selector or policy label, so the number of
series does not grow with the customers.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Final

from .._base.events import (
    REFUSAL_KINDS,
    RELOAD_KINDS,
    Event,
    KeysReloaded,
    Refused,
    Signed,
    StoreUnreachable,
)
from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["RELOAD_BUCKETS", "SIGN_BUCKETS", "PrometheusObserver"]

SIGN_BUCKETS: Final = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
"""Seconds: one Ed25519 signature takes about 0.1 ms, a large RSA-signed message tens of ms."""

RELOAD_BUCKETS: Final = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: one domain's row takes milliseconds, a whole brand after a reconnect seconds."""


class PrometheusObserver:
    """
    An :class:`~oxdkim.typing.Observer` that counts oxdkim's events in ``registry``.

    One observer serves every signer and store of the process (it is thread-safe); build
    it once per registry and namespace, since the metric names may be registered only once.
    Expose the registry the way the service already does, e.g. with
    ``prometheus_client.start_http_server(port, registry=registry)``.

    Metrics (``<namespace>_`` prefix):

    * ``signatures_total{mode, algorithm}``: signatures made.
    * ``messages_signed_total{mode}``: messages signed.
    * ``messages_unsigned_total{kind}``: messages not signed, by refusal kind.
    * ``sign_seconds``: time to sign one message (histogram, signed messages only).
    * ``key_reloads_total{what}``: reloads by a store; ``key_reload_seconds{what}`` their time.
    * ``store_unreachable_total``: times a store could not be reached.

    Raises:
        ConfigurationError: prometheus_client is not installed, or these metrics are
            already registered in ``registry``.
    """

    def __init__(self, registry: CollectorRegistry, *, namespace: str = "oxdkim") -> None:
        try:
            from prometheus_client import Counter, Histogram  # noqa: PLC0415 (optional extra)
        except ImportError as error:
            raise ConfigurationError(
                "PrometheusObserver needs prometheus_client: pip install 'oxdkim[metrics]'"
            ) from error
        self.registry = registry
        self.namespace = namespace
        try:
            self._signatures = Counter(
                "signatures",
                "DKIM signatures made.",
                ["mode", "algorithm"],
                namespace=namespace,
                registry=registry,
            )
            self._signed = Counter(
                "messages_signed",
                "Messages signed.",
                ["mode"],
                namespace=namespace,
                registry=registry,
            )
            self._unsigned = Counter(
                "messages_unsigned",
                "Messages not signed, by refusal kind.",
                ["kind"],
                namespace=namespace,
                registry=registry,
            )
            self._sign_seconds = Histogram(
                "sign_seconds",
                "Time to sign one message, in seconds.",
                buckets=SIGN_BUCKETS,
                namespace=namespace,
                registry=registry,
            )
            self._reloads = Counter(
                "key_reloads",
                "Keys or domains reloaded by a store.",
                ["what"],
                namespace=namespace,
                registry=registry,
            )
            self._reload_seconds = Histogram(
                "key_reload_seconds",
                "Time of one reload by a store, in seconds.",
                ["what"],
                buckets=RELOAD_BUCKETS,
                namespace=namespace,
                registry=registry,
            )
            self._unreachable = Counter(
                "store_unreachable",
                "Times a key store could not be reached.",
                namespace=namespace,
                registry=registry,
            )
        except ValueError as error:  # "Duplicated timeseries in CollectorRegistry"
            raise ConfigurationError(
                f"the {namespace}_* metrics are already registered in this registry: "
                "build one PrometheusObserver per registry and share it"
            ) from error
        # Children looked up once: labels() takes a lock and builds a key per call.
        self._lock = threading.Lock()
        self._signed_children: dict[tuple[str, tuple[str, ...]], _SignedChildren] = {}
        self._unsigned_children = {kind: self._unsigned.labels(kind) for kind in REFUSAL_KINDS}
        for what in RELOAD_KINDS:  # every bounded series exists from the start, at 0
            self._reloads.labels(what)
            self._reload_seconds.labels(what)

    def __repr__(self) -> str:
        return f"PrometheusObserver(namespace={self.namespace!r})"

    def observe(self, event: Event, /) -> None:
        """Count ``event``."""
        if type(event) is Signed:
            key = (event.mode, event.algorithms)
            children = self._signed_children.get(key)
            if children is None:
                children = self._children_for(key)
            children.signed.inc()
            for signature in children.signatures:
                signature.inc()
            self._sign_seconds.observe(event.seconds)
        elif type(event) is Refused:
            self._unsigned_children[event.kind].inc()
        elif type(event) is KeysReloaded:
            self._reloads.labels(event.what).inc()
            self._reload_seconds.labels(event.what).observe(event.seconds)
        elif type(event) is StoreUnreachable:
            self._unreachable.inc()

    def _children_for(self, key: tuple[str, tuple[str, ...]]) -> _SignedChildren:
        mode, algorithms = key
        children = _SignedChildren(
            self._signed.labels(mode),
            tuple(self._signatures.labels(mode, algorithm) for algorithm in algorithms),
        )
        with self._lock:
            return self._signed_children.setdefault(key, children)


class _SignedChildren:
    """The counters one kind of signed message increments."""

    __slots__ = ("signatures", "signed")

    def __init__(self, signed: _Incrementable, signatures: tuple[_Incrementable, ...]) -> None:
        self.signed = signed
        self.signatures = signatures


if TYPE_CHECKING:
    from prometheus_client import Counter as _Incrementable
