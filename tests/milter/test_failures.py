"""Failing closed: a milter that is gone or too slow means 451, a refusal is said and logged."""

from __future__ import annotations

from .conftest import instance
from .test_sign import message, signatures
from .world import DEFAULT_MILTER, GLOBEX_DOMAIN


def test_killed_milter_makes_postfix_answer_451_4_7_1():
    """With the milter process killed, Postfix refuses mail for now (milter_default_action)."""
    with instance() as (milter, postfix, _):
        assert 250 == postfix.send(message("acme.example", "before"), listener="acme")[0]
        milter.kill()
        code, text = postfix.send(message("acme.example", "after"), listener="acme")
        assert 451 == code
        assert text.startswith(b"4.7.1")
        assert 1 == len(postfix.wait_delivered(1))


def test_refusal_rejected_with_550_and_the_reason_logged():
    """on_refusal = "reject": a policy refusal is a 550 5.7.1, and the log says why."""
    with instance(
        DEFAULT_MILTER.replace("timeout = 20", 'timeout = 20\non_refusal = "reject"'),
        fallback="refuse",
    ) as (milter, postfix, _):
        code, text = postfix.send(message(GLOBEX_DOMAIN, "spoof"), listener="acme")
        assert 550 == code
        assert text.startswith(b"5.7.1")
        log = milter.text()
        assert "decision=rejected" in log
        assert "tenant=acme" in log


def test_refusal_passed_unsigned_with_the_reason_logged():
    """on_refusal = "unsigned" (the default): the message goes on unsigned, the log says why."""
    with instance(fallback="refuse") as (milter, postfix, _):
        code, _ = postfix.send(message(GLOBEX_DOMAIN, "spoof"), listener="acme")
        assert 250 == code
        [delivered] = postfix.wait_delivered(1)
        assert [] == signatures(delivered)
        assert "decision=unsigned" in milter.text()


def test_timeout_gives_451_never_an_unsigned_pass():
    """A signing slower than the configured timeout: temporary failure, nothing delivered."""
    with instance(DEFAULT_MILTER.replace("timeout = 20", "timeout = 0.000001")) as (
        milter,
        postfix,
        _,
    ):
        code, text = postfix.send(message("acme.example", "slow"), listener="acme")
        assert 451 == code
        assert text.startswith(b"4.7.1")
        assert [] == postfix.delivered()
        assert "decision=tempfail reason=timeout" in milter.text()
