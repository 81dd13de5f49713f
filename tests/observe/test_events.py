"""
The signer's events: one Signed or Refused per sign()/sign_chunks() call, with the bounded
refusal kind, the caller's exception unchanged, and an observer that cannot break signing.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from oxdkim import (
    FromHeaderError,
    KeysReloaded,
    MessageFormatError,
    MessageLimits,
    Refused,
    SignatureSpec,
    Signed,
    Signer,
    SigningRefusedError,
    StoreUnreachable,
)
from oxdkim._base.events import MODES, REFUSAL_KINDS, emit
from oxdkim.exceptions import ConfigurationError, MessageProblem
from oxdkim.testing import TestBrand, make_message, test_key
from oxdkim.typing import Observer
from signing.helpers import StaticPolicy, dkimpy_verify_all

from .helpers import Recorder, brand_records


@pytest.fixture(params=["ed25519-sha256", "rsa-sha256"])
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_recorder_is_an_observer() -> None:
    """The protocol is runtime-checkable, and a plain class with observe() is one."""
    assert isinstance(Recorder(), Observer)


@pytest.mark.parametrize("chunked", [False, True])
def test_each_signed_message_is_one_signed_event(algorithm: str, chunked: bool) -> None:
    """Aligned for a tenant's domain, generic for another: mode, a=, d=, s=, count, time;
    the signatures are those of a signer without observer, and dkimpy verifies them."""
    brand = TestBrand.build(algorithm)
    recorder = Recorder()
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=recorder)
    plain = Signer(brand.aligned_policy(), clock=brand.clock)
    own, foreign = make_message(), make_message("Eve <eve@elsewhere.example>")

    def sign(s: Signer, message: bytes, tenant: str) -> bytes:
        if chunked:
            results = s.sign_chunks([message[:7], message[7:40], message[40:]], tenant=tenant)
        else:
            results = s.sign(message, tenant=tenant)
        return b"".join(r.header for r in results) + message

    signed = [sign(signer, own, "acme"), sign(signer, foreign, "acme")]

    assert signed == [sign(plain, own, "acme"), sign(plain, foreign, "acme")]
    records = brand_records(brand, algorithm)
    assert [[True], [True]] == [dkimpy_verify_all(m, records) for m in signed]
    aligned, generic = recorder.events
    assert isinstance(aligned, Signed)
    assert isinstance(generic, Signed)
    assert ("aligned", (algorithm,), 1, ("acme.example",), ("mail1",)) == (
        aligned.mode,
        aligned.algorithms,
        aligned.signatures,
        aligned.domains,
        aligned.selectors,
    )
    assert ("generic", ("dkim.brandmail.example",), ("gen1",)) == (
        generic.mode,
        generic.domains,
        generic.selectors,
    )
    assert "legacy-brand" == aligned.policy
    assert "legacy-brand>default-generic" == generic.policy
    assert 0 < aligned.seconds < 5
    assert 0 < generic.seconds < 5


@pytest.mark.parametrize(
    ("author", "domains", "mode"),
    [
        ("acme.example", ("acme.example",), "aligned"),
        ("acme.example", ("mail.acme.example",), "aligned"),  # below From: relaxed alignment
        ("news.acme.example", ("acme.example",), "aligned"),  # a parent of From
        ("acme.example", ("acme.example", "dkim.brandmail.example"), "mixed"),
        ("acme.example", ("dkim.brandmail.example", "acme.example"), "mixed"),
        ("acme.example", ("dkim.brandmail.example", "other.example"), "generic"),
        ("acme.example", ("cme.example",), "generic"),  # a suffix of the name, not a parent
    ],
)
def test_mode_compares_every_d_with_the_from_domain(
    author: str, domains: tuple[str, ...], mode: str
) -> None:
    """One event per message whatever the number of signatures, one a= per signature."""
    keys = [test_key("ed25519-sha256", seed=5), test_key("rsa-sha256", seed=5)]
    specs = tuple(SignatureSpec(domain, f"s{n}", keys[n % 2]) for n, domain in enumerate(domains))
    recorder = Recorder()
    Signer(StaticPolicy(specs), observer=recorder).sign(make_message(f"a@{author}"))
    [event] = recorder.events
    assert isinstance(event, Signed)
    assert mode == event.mode
    assert mode in MODES
    assert len(domains) == event.signatures
    assert tuple(keys[n % 2].algorithm.value for n in range(len(domains))) == event.algorithms
    assert domains == event.domains


class _Broken:
    """A policy that fails in a way oxdkim does not know."""

    name = "broken"

    def decide(self, request: object) -> object:
        raise RuntimeError("the policy's database went away")


def _naive_clock() -> datetime:
    return datetime(2026, 1, 1)  # naive: the point of the test


REFUSALS = [
    # (id, message, signer options, expected exception, kind)
    ("policy", make_message("Eve <eve@elsewhere.example>"), {}, SigningRefusedError, "policy"),
    ("no-from", b"To: b@c.example\r\n\r\nbody\r\n", {}, FromHeaderError, "no-from"),
    (
        "multiple-from",
        b"From: a@acme.example\r\nFrom: b@acme.example\r\n\r\nx\r\n",
        {},
        FromHeaderError,
        "multiple-from",
    ),
    ("no-address", b"From: nobody\r\n\r\nx\r\n", {}, FromHeaderError, "no-address"),
    ("bare-cr", make_message(body=b"one\rtwo\r\n"), {}, MessageFormatError, "bare-cr"),
    ("nul-byte", make_message(body=b"one\0two\r\n"), {}, MessageFormatError, "nul-byte"),
    ("empty", b"\r\n\r\n", {}, MessageFormatError, "empty"),
    (
        "too-large",
        make_message(headers=[("X-Pad", "p" * 3000)]),
        {"limits": MessageLimits(max_header_bytes=1024)},
        MessageFormatError,
        "too-large",
    ),
    ("configuration", make_message(), {"clock": _naive_clock}, ConfigurationError, "configuration"),
]


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(
    ("message", "options", "error", "kind"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSALS],
)
def test_each_refusal_is_one_refused_event_of_its_kind(
    message: bytes, options: dict[str, object], error: type[Exception], kind: str, chunked: bool
) -> None:
    """The caller still gets the exception; the event names the kind and the policy."""
    brand = TestBrand.build()
    recorder = Recorder()
    options.setdefault("clock", brand.clock)
    signer = Signer(brand.aligned_policy(fallback=False), observer=recorder, **options)  # type: ignore[arg-type]
    if chunked:
        with pytest.raises(error) as raised:
            signer.sign_chunks(iter([message[:3], message[3:]]), tenant="acme")
    else:
        with pytest.raises(error) as raised:
            signer.sign(message, tenant="acme")
    [event] = recorder.events
    assert isinstance(event, Refused)
    assert kind == event.kind
    assert kind in REFUSAL_KINDS
    assert "legacy-brand" == event.policy
    assert event.seconds >= 0
    if isinstance(raised.value, MessageFormatError):
        assert raised.value.problem.value == event.kind
        assert str(raised.value) == event.reason
    if isinstance(raised.value, SigningRefusedError):
        assert raised.value.decision.reason == event.reason


def test_every_message_problem_is_a_refusal_kind() -> None:
    """The closed set holds each MessageProblem code, so none is refused at run time."""
    assert {p.value for p in MessageProblem} <= REFUSAL_KINDS


def test_a_bare_cr_cut_between_chunks_is_refused_as_bare_cr() -> None:
    """sign_chunks finds the CR at the end of one chunk before a non-LF, and says so."""
    brand = TestBrand.build()
    recorder = Recorder()
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=recorder)
    message = make_message(body=b"one\rtwo\r\n")
    cut = message.index(b"\rtwo") + 1
    with pytest.raises(MessageFormatError):
        signer.sign_chunks([message[:cut], message[cut:]], tenant="acme")
    assert ["bare-cr"] == [e.kind for e in recorder.events if isinstance(e, Refused)]


def test_wrong_chunk_types_and_unknown_errors_have_their_kinds() -> None:
    """str chunks are bad input; a policy's own RuntimeError is "other", re-raised as is."""
    brand = TestBrand.build()
    recorder = Recorder()
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=recorder)
    with pytest.raises(TypeError):
        signer.sign_chunks(["From: a@acme.example\r\n\r\nx"])  # type: ignore[list-item]
    broken = Signer(_Broken(), clock=brand.clock, observer=recorder)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="database went away"):
        broken.sign(make_message())
    assert [("bad-input", "legacy-brand"), ("other", "broken")] == [
        (e.kind, e.policy) for e in recorder.events if isinstance(e, Refused)
    ]
    assert "RuntimeError: the policy's database went away" == recorder.events[1].reason  # type: ignore[union-attr]


def test_decide_and_signed_message_emit_as_documented() -> None:
    """decide() signs nothing (no event); signed_message() is one sign() (one event)."""
    brand = TestBrand.build()
    recorder = Recorder()
    signer = Signer(brand.aligned_policy(), clock=brand.clock, observer=recorder)
    signer.decide(make_message(), tenant="acme")
    assert [] == recorder.events
    signer.signed_message(make_message(), tenant="acme")
    assert [Signed] == [type(e) for e in recorder.events]


class _Raising:
    def __init__(self) -> None:
        self.calls = 0

    def observe(self, event: object, /) -> None:
        self.calls += 1
        raise ValueError("metrics backend is down")


def test_an_observer_that_raises_never_breaks_signing(caplog: pytest.LogCaptureFixture) -> None:
    """Signatures and refusals are as without it; one WARNING, later failures at DEBUG."""
    brand = TestBrand.build()
    raising = _Raising()
    signer = Signer(brand.aligned_policy(fallback=False), clock=brand.clock, observer=raising)
    plain = Signer(brand.aligned_policy(fallback=False), clock=brand.clock)
    caplog.set_level(logging.DEBUG, logger="oxdkim")
    for _ in range(3):
        assert plain.sign(make_message(), tenant="acme") == signer.sign(
            make_message(), tenant="acme"
        )
        assert plain.sign_chunks([make_message()], tenant="acme") == signer.sign_chunks(
            [make_message()], tenant="acme"
        )
    with pytest.raises(SigningRefusedError):
        signer.sign(make_message(), tenant="globex")
    assert 7 == raising.calls
    failures = [r for r in caplog.records if "observer _Raising raised" in r.getMessage()]
    assert [logging.WARNING] + [logging.DEBUG] * 6 == [r.levelno for r in failures]
    assert all(r.exc_info and "metrics backend is down" in str(r.exc_info[1]) for r in failures)


def test_store_events_are_validated_values() -> None:
    """The bounded labels refuse values outside their sets (a typo is a bug, not a series)."""
    with pytest.raises(ValueError, match="what"):
        KeysReloaded("brand", "everything", 0.1)
    with pytest.raises(ValueError, match="kind"):
        Refused("p", "why", "unheard-of", 0.1)
    recorder = Recorder()
    events = [KeysReloaded(None, "all", 0.5), StoreUnreachable("postgresql db=keys", "timeout")]
    for event in events:
        emit(recorder, event)
    emit(None, events[0])  # no observer: only logged
    assert events == recorder.events


def test_an_observer_without_observe_is_refused_when_the_signer_is_built() -> None:
    """A wrong object fails at once, not on the first message (where it would be dropped)."""
    brand = TestBrand.build()
    with pytest.raises(ConfigurationError, match="observe"):
        Signer(brand.aligned_policy(), observer=print)  # type: ignore[arg-type]


class _NamelessPolicy:
    """A policy whose name cannot be read: the refusal's report must not hide the error."""

    @property
    def name(self) -> str:
        raise AttributeError("no name today")

    def decide(self, request: object) -> object:
        raise AssertionError("never reached: the message is refused before")


def test_a_report_that_fails_never_hides_the_callers_error() -> None:
    """The caller gets the MessageFormatError, not the policy's broken name."""
    recorder = Recorder()
    signer = Signer(_NamelessPolicy(), observer=recorder)  # type: ignore[arg-type]
    with pytest.raises(MessageFormatError) as raised:
        signer.sign(b"\r\n\r\n")
    assert MessageProblem.EMPTY is raised.value.problem
    assert [] == recorder.events


def test_without_observer_and_debug_no_signed_event_is_built(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The hot path's promise: with the level off and no observer, nothing is built."""
    from oxdkim._signing import signer as module

    built: list[object] = []
    real = module._signed
    monkeypatch.setattr(module, "_signed", lambda *a: built.append(a) or real(*a))
    brand = TestBrand.build()
    plain = Signer(brand.aligned_policy(), clock=brand.clock)
    caplog.set_level(logging.INFO, logger="oxdkim")
    plain.sign(make_message(), tenant="acme")
    plain.sign_chunks([make_message()], tenant="acme")
    assert [] == built
    caplog.set_level(logging.DEBUG, logger="oxdkim")
    plain.sign(make_message(), tenant="acme")
    assert 1 == len(built)
