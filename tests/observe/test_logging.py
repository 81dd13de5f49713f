"""
The ``oxdkim`` logger: one record per event at its level (Signed DEBUG, Refused WARNING,
KeysReloaded INFO, StoreUnreachable WARNING), with the event attached, and never a
private key, a message body or a header field's value in any record, even at DEBUG.
"""

from __future__ import annotations

import base64
import logging

import pytest

from oxdkim import (
    KeysReloaded,
    MessageFormatError,
    Refused,
    Signed,
    Signer,
    SigningRefusedError,
    StoreUnreachable,
)
from oxdkim._base.events import emit
from oxdkim.testing import TestBrand, make_message

from .helpers import Recorder

SECRET_BODY = "the quarterly numbers are 4711 and 0815, do not forward\r\n"
SECRET_SUBJECT = "Merger with Initech on Friday"


def _all_text(records: list[logging.LogRecord]) -> str:
    """Everything a handler could write: the formatted line, tracebacks, every attribute."""
    formatter = logging.Formatter()
    return "\n".join(formatter.format(record) + repr(vars(record)) for record in records)


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_no_key_material_body_or_header_value_in_any_record(
    algorithm: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed, refused by the policy and refused as malformed, with and without observer."""
    brand = TestBrand.build(algorithm)
    caplog.set_level(logging.DEBUG, logger="oxdkim")
    message = make_message(subject=SECRET_SUBJECT, body=SECRET_BODY)
    for observer in (None, Recorder()):
        signer = Signer(brand.aligned_policy(fallback=False), clock=brand.clock, observer=observer)
        signer.sign(message, tenant="acme")
        signer.sign_chunks([message], tenant="acme")
        with pytest.raises(SigningRefusedError):
            signer.sign(message, tenant="globex")
        with pytest.raises(MessageFormatError):
            signer.sign(message + b"\rtrailing bare CR " + SECRET_BODY.encode(), tenant="acme")
    text = _all_text(caplog.records)
    assert 8 == len(caplog.records)
    keys = [brand.generic_key, *(slot.key for slot in brand.ring.snapshot().slots if slot.key)]
    for key in keys:
        pem = key.private_pem()
        assert pem.decode() not in text
        der_lines = [line for line in pem.decode().splitlines() if "PRIVATE KEY" not in line]
        assert all(line not in text for line in der_lines)
        raw = base64.b64decode("".join(der_lines))
        assert base64.b64encode(raw).decode() not in text
        assert raw.hex() not in text
    assert "quarterly" not in text
    assert "Initech" not in text
    assert "bob@receiver.example" not in text  # the To field's value


def test_each_event_is_logged_at_its_level_with_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The record carries the event as ``oxdkim_event`` for structured handlers."""
    caplog.set_level(logging.DEBUG, logger="oxdkim")
    events = [
        Signed("p", "aligned", ("ed25519-sha256",), 1, 0.001, ("a.example",), ("s1",)),
        Refused("p", "a.example is not a domain of this brand", "policy", 0.001),
        KeysReloaded("brand", "ring", 0.2),
        StoreUnreachable("postgresql host=db1 dbname=keys", "connection refused"),
    ]
    for event in events:
        emit(None, event)
    records = [r for r in caplog.records if r.name == "oxdkim"]
    assert [logging.DEBUG, logging.WARNING, logging.INFO, logging.WARNING] == [
        r.levelno for r in records
    ]
    assert events == [r.oxdkim_event for r in records]  # type: ignore[attr-defined]
    messages = [r.getMessage() for r in records]
    assert "d=a.example s=s1" in messages[0]
    assert "kind=policy" in messages[1]
    assert "not a domain of this brand" in messages[1]
    assert "what=ring" in messages[2]
    assert "connection refused" in messages[3]


def test_a_level_that_is_off_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """At WARNING, signing logs nothing; a refusal still does, once."""
    brand = TestBrand.build()
    caplog.set_level(logging.WARNING, logger="oxdkim")
    signer = Signer(brand.aligned_policy(fallback=False), clock=brand.clock)
    signer.sign(make_message(), tenant="acme")
    signer.sign_chunks([make_message()], tenant="acme")
    assert [] == [r for r in caplog.records if r.name == "oxdkim"]
    with pytest.raises(SigningRefusedError):
        signer.sign(make_message(), tenant="globex")
    assert [logging.WARNING] == [r.levelno for r in caplog.records if r.name == "oxdkim"]


def test_the_library_adds_only_a_null_handler() -> None:
    """Without configuration a service prints nothing: logging's last resort stays unused."""
    handlers = logging.getLogger("oxdkim").handlers
    assert handlers
    assert all(type(h) is logging.NullHandler for h in handlers)
