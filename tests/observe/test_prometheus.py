"""
PrometheusObserver on a real prometheus_client registry: what each event counts, bounded
labels only, one observer per registry, and exact counts from several signing threads.
"""

from __future__ import annotations

import contextlib
import sys
import threading

import pytest
from prometheus_client import CollectorRegistry

from oxdkim import (
    ConfigurationError,
    KeysReloaded,
    MessageFormatError,
    PrometheusObserver,
    SignatureSpec,
    Signer,
    SigningRefusedError,
    StoreUnreachable,
)
from oxdkim._base.events import REFUSAL_KINDS, emit
from oxdkim.testing import TestBrand, make_message, test_key
from oxdkim.typing import Observer
from signing.helpers import StaticPolicy


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series that does not exist (yet)."""
    found = registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


@pytest.mark.parametrize("algorithm", ["ed25519-sha256", "rsa-sha256"])
def test_signed_and_refused_messages_are_counted(algorithm: str) -> None:
    """Signatures by mode and a=, messages by mode, refusals by kind, the time histogram."""
    brand = TestBrand.build(algorithm)
    registry = CollectorRegistry()
    observer = PrometheusObserver(registry)
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=observer)
    strict = Signer(brand.aligned_policy(fallback=False), clock=brand.clock, observer=observer)
    for _ in range(3):
        signer.sign(make_message(), tenant="acme")  # aligned
    signer.sign_chunks([make_message("x@elsewhere.example")], tenant="acme")  # generic
    with pytest.raises(SigningRefusedError):
        strict.sign(make_message("x@elsewhere.example"), tenant="acme")
    for _ in range(2):
        with pytest.raises(MessageFormatError):
            signer.sign_chunks([make_message(body=b"a\rb\r\n")], tenant="acme")
    mixed = Signer(
        StaticPolicy(
            (
                SignatureSpec("acme.example", "a1", test_key("rsa-sha256", seed=3)),
                SignatureSpec("dkim.brandmail.example", "g1", test_key("ed25519-sha256")),
            )
        ),
        observer=observer,
    )
    mixed.sign(make_message())

    assert 3 == value(registry, "oxdkim_signatures_total", mode="aligned", algorithm=algorithm)
    assert 1 == value(registry, "oxdkim_signatures_total", mode="generic", algorithm=algorithm)
    assert 1 == value(registry, "oxdkim_signatures_total", mode="mixed", algorithm="rsa-sha256")
    assert 1 == value(registry, "oxdkim_signatures_total", mode="mixed", algorithm=algorithm)
    assert 3 == value(registry, "oxdkim_messages_signed_total", mode="aligned")
    assert 1 == value(registry, "oxdkim_messages_signed_total", mode="generic")
    assert 1 == value(registry, "oxdkim_messages_signed_total", mode="mixed")
    assert 1 == value(registry, "oxdkim_messages_unsigned_total", kind="policy")
    assert 2 == value(registry, "oxdkim_messages_unsigned_total", kind="bare-cr")
    assert 0 == value(registry, "oxdkim_messages_unsigned_total", kind="nul-byte")
    assert 5 == value(registry, "oxdkim_sign_seconds_count")
    assert 0 < value(registry, "oxdkim_sign_seconds_sum") < 5
    assert 5 == value(registry, "oxdkim_sign_seconds_bucket", le="+Inf")


def test_store_events_are_counted() -> None:
    """Reloads by what with their times; unreachable stores without any label."""
    registry = CollectorRegistry()
    observer = PrometheusObserver(registry, namespace="mta")
    for event in [
        KeysReloaded("brand", "ring", 0.02),
        KeysReloaded(None, "all", 1.5),
        KeysReloaded("brand", "ring", 0.03),
        StoreUnreachable("postgresql host=db1", "connection refused"),
    ]:
        emit(observer, event)
    assert 2 == value(registry, "mta_key_reloads_total", what="ring")
    assert 1 == value(registry, "mta_key_reloads_total", what="all")
    assert 0 == value(registry, "mta_key_reloads_total", what="domains")
    assert 2 == value(registry, "mta_key_reload_seconds_count", what="ring")
    assert 0.05 == pytest.approx(value(registry, "mta_key_reload_seconds_sum", what="ring"))
    assert 1 == value(registry, "mta_key_reload_seconds_bucket", what="all", le="2.5")
    assert 0 == value(registry, "mta_key_reload_seconds_bucket", what="all", le="1.0")
    assert 1 == value(registry, "mta_store_unreachable_total")


def test_labels_are_bounded_and_name_no_domain_tenant_or_selector() -> None:
    """Every label is one of five names, and no value is a domain, tenant or selector."""
    brand = TestBrand.build(tenants={"acme": ["acme.example"], "initech": ["initech.example"]})
    registry = CollectorRegistry()
    observer = PrometheusObserver(registry)
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=observer)
    signer.sign(make_message(), tenant="acme")
    signer.sign(make_message("a@initech.example"), tenant="initech")
    signer.sign(make_message("a@initech.example"), tenant="acme")
    emit(observer, KeysReloaded("brandmail", "domains", 0.1))
    samples = [s for metric in registry.collect() for s in metric.samples]
    names = {name for s in samples for name in s.labels}
    assert names <= {"mode", "algorithm", "kind", "what", "le"}
    values = {v for s in samples for v in s.labels.values()}
    forbidden = {"acme", "initech", "acme.example", "initech.example", "brandmail", "mail1"}
    assert set() == values & forbidden
    assert set() == {v for v in values if "." in v and not v.replace(".", "").isdigit()} - {"+Inf"}
    kinds = {s.labels["kind"] for s in samples if "kind" in s.labels}
    assert REFUSAL_KINDS == kinds  # every kind exists from the start, at 0


def test_one_observer_per_registry_and_namespace() -> None:
    """A second one on the same names is a typed error; another namespace is fine."""
    registry = CollectorRegistry()
    observer = PrometheusObserver(registry)
    assert isinstance(observer, Observer)
    with pytest.raises(ConfigurationError, match="already registered"):
        PrometheusObserver(registry)
    PrometheusObserver(registry, namespace="second")
    assert "PrometheusObserver(namespace='oxdkim')" == repr(observer)


def test_without_prometheus_client_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``import oxdkim`` never needs the extra; building the observer names it."""
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ConfigurationError, match=r"oxdkim\[metrics\]"):
        PrometheusObserver(CollectorRegistry())


def test_two_signing_threads_add_up_exactly() -> None:
    """sign() and sign_chunks() at once, aligned, generic and refused: no count lost."""
    brand = TestBrand.build()
    registry = CollectorRegistry()
    observer = PrometheusObserver(registry)
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=observer)
    rounds = 150
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(chunked: bool) -> None:
        try:
            start.wait()
            for n in range(rounds):
                sender = "a@acme.example" if n % 3 else "b@elsewhere.example"
                message = make_message(sender, body=f"message {n}\r\n")
                if chunked:
                    signer.sign_chunks([message[:20], message[20:]], tenant="acme")
                else:
                    signer.sign(message, tenant="acme")
                with contextlib.suppress(MessageFormatError):
                    signer.sign(make_message(body=b"\0"), tenant="acme")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(chunked,)) for chunked in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [] == errors
    generic = 2 * len(range(0, rounds, 3))
    assert 2 * rounds - generic == value(registry, "oxdkim_messages_signed_total", mode="aligned")
    assert generic == value(registry, "oxdkim_messages_signed_total", mode="generic")
    assert 2 * rounds == value(registry, "oxdkim_messages_unsigned_total", kind="nul-byte")
    assert 2 * rounds == value(registry, "oxdkim_sign_seconds_count")
