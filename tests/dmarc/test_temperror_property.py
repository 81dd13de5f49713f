"""
A temporary DNS failure changes a DMARC verdict only when the verdict depends on it.

For random zones, identifiers and sets of failing names: when the evaluation gives a
verdict despite the failures, every answer those names could give yields that verdict
(soundness: an attacker whose DNS fails cannot bend it); when it gives temperror, some
answers to the failed names give different verdicts (the failure really decides).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxdkim._dmarc.alignment import (
    AsyncDmarcAlignment,
    DmarcAlignment,
    DmarcResult,
    DmarcVerdict,
    SpfCheck,
)
from oxdkim._dmarc.orgdomain import AsyncFinderAdapter, PslFinder

from .helpers import PSL_SNAPSHOT, as_async, recording, zone

PSL = PslFinder(PSL_SNAPSHOT)

UNIVERSE = (
    "example",
    "bank.example",
    "mail.bank.example",
    "a.mail.bank.example",
    "evil.example",
    "x.evil.example",
    "test",
    "shop.test",
    "m.shop.test",
)
RECORDS = (
    None,
    "v=DMARC1; p=none",
    "v=DMARC1; p=reject",
    "v=DMARC1; p=reject; psd=y",
    "v=DMARC1; p=quarantine; psd=n",
    "v=DMARC1; p=none; sp=quarantine; np=reject",
    "v=DMARC1; p=reject; adkim=s; aspf=s",
    "v=DMARC1; p=bogus",
    "v=DMARC1; p=bogus; psd=n",
    "v=DMARC1; p=bogus; psd=y",
)
"""Every kind of answer a ``_dmarc`` name can give: none, psd=u/y/n, strict, np, unusable."""

PRESENCE = (None, "exists")
"""The answers an existence check can get: NXDOMAIN (unless below it exist) or a record."""


def _outcome(result: DmarcResult) -> tuple[Any, ...]:
    return (result.verdict, result.disposition)


def _evaluate(
    records: dict[str, str], failing: frozenset[str], case: dict[str, Any]
) -> tuple[DmarcResult, list[str]]:
    resolver = recording(records, failing=failing)
    dmarc = DmarcAlignment(resolver, PSL if case["psl"] else None)
    spf = SpfCheck("pass", case["spf"]) if case["spf"] else None
    return dmarc.evaluate(case["author"], dkim=case["dkim"], spf=spf), resolver.names


def _filled(records: dict[str, str], names: tuple[str, ...], answers: tuple[Any, ...]) -> dict:
    """
    The zone where each failed name gives its answer. A domain that does not exist has
    nothing below it either (RFC 8020): its records go too; ``_consistent`` then drops
    the worlds where that changes a name the evaluation asked and did not fail on.
    """
    filled = dict(records)
    for name, answer in zip(names, answers, strict=True):
        filled.pop(name, None)
        if answer is not None:
            filled[name] = answer
        elif not name.startswith("_dmarc."):
            for key in [k for k in filled if k.endswith("." + name)]:
                del filled[key]
    return filled


def _consistent(
    records: dict[str, str], filled: dict[str, str], names: tuple[str, ...], asked: list[str]
) -> bool:
    """
    Whether the filled zone answers every name the evaluation asked and did not fail on
    as the real one does: a record below a name makes it exist, and a name that does not
    exist takes the records below it away.
    """
    before, after = zone(records), zone(filled)
    checked = [n for n in asked if n not in names]
    return all(
        (before.txt(n).status, before.txt(n).records) == (after.txt(n).status, after.txt(n).records)
        for n in checked
    )


def _alphabet(name: str) -> tuple[Any, ...]:
    return RECORDS if name.startswith("_dmarc.") else PRESENCE


POOL = tuple(f"_dmarc.{name}" for name in UNIVERSE) + UNIVERSE
"""Names that may fail: every policy name and every domain (existence checks)."""

CASES = st.fixed_dictionaries(
    {
        "zone": st.dictionaries(st.sampled_from(UNIVERSE), st.sampled_from(RECORDS[1:])),
        "author": st.sampled_from(UNIVERSE),
        "dkim": st.lists(st.sampled_from(UNIVERSE), max_size=2),
        "spf": st.none() | st.sampled_from(UNIVERSE),
        "psl": st.booleans(),
    }
)


def _records(case: dict[str, Any]) -> dict[str, str]:
    return {f"_dmarc.{name}": value for name, value in case["zone"].items()}


@settings(
    max_examples=int(os.environ.get("OXDKIM_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=CASES, failing=st.lists(st.sampled_from(POOL), min_size=1, max_size=2, unique=True))
def test_a_failure_decides_only_when_the_verdict_depends_on_it(
    case: dict[str, Any], failing: list[str]
) -> None:
    """Soundness and necessity of temperror over every answer the failed names could give."""
    records = _records(case)
    names = tuple(sorted(failing))
    result, _ = _evaluate(records, frozenset(names), case)
    outcomes = set()
    for answers in itertools.product(*(_alphabet(name) for name in names)):
        records_filled = _filled(records, names, answers)
        filled, asked = _evaluate(records_filled, frozenset(), case)
        if not _consistent(records, records_filled, names, asked):
            continue
        outcomes.add(_outcome(filled))
        if result.verdict not in (DmarcVerdict.TEMPERROR, DmarcVerdict.PERMERROR):
            # Soundness: a verdict given despite the failure holds whatever DNS says.
            assert _outcome(result) == _outcome(filled), (names, answers)
            if result.applied_policy is not None:
                assert result.applied_policy == filled.applied_policy, (names, answers)
    if result.verdict is DmarcVerdict.TEMPERROR:
        # Necessity: the failed names decide between at least two outcomes.
        assert len(outcomes) > 1, (names, outcomes)


@settings(max_examples=int(os.environ.get("OXDKIM_PROPERTY_EXAMPLES", "200")), deadline=None)
@given(
    case=CASES,
    failing=st.dictionaries(st.sampled_from(POOL), st.integers(0, len(RECORDS) - 1), max_size=6),
)
def test_many_failures_never_bend_a_given_verdict(
    case: dict[str, Any], failing: dict[str, int]
) -> None:
    """Up to six failed names, one drawn answer for each: a verdict given stays the same."""
    records = _records(case)
    names = tuple(failing)
    result, _ = _evaluate(records, frozenset(names), case)
    if result.verdict in (DmarcVerdict.TEMPERROR, DmarcVerdict.PERMERROR):
        return
    answers = tuple(_alphabet(n)[i % len(_alphabet(n))] for n, i in failing.items())
    records_filled = _filled(records, names, answers)
    filled, asked = _evaluate(records_filled, frozenset(), case)
    if not _consistent(records, records_filled, names, asked):
        return
    assert _outcome(result) == _outcome(filled), (names, answers)


@settings(max_examples=100, deadline=None)
@given(case=CASES, failing=st.lists(st.sampled_from(POOL), max_size=3, unique=True))
def test_async_gives_the_same_answers_and_queries(case: dict[str, Any], failing: list[str]) -> None:
    """The asynchronous evaluation gives the same result and asks the same names, failures
    included."""
    records = _records(case)
    result, names = _evaluate(records, frozenset(failing), case)
    resolver = recording(records, failing=failing)
    dmarc = AsyncDmarcAlignment(
        as_async(resolver), AsyncFinderAdapter(PSL) if case["psl"] else None
    )
    spf = SpfCheck("pass", case["spf"]) if case["spf"] else None
    got = asyncio.run(dmarc.evaluate(case["author"], dkim=case["dkim"], spf=spf))
    assert result == got
    assert names == resolver.names
