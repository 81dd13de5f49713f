"""
The DNS questions the audit's, the SPF analysis's and the preview's plans ask, and how a
resolver answers them: the one place where a question becomes a sync or async call.

Each feature is a plan (see :mod:`oxdkim._base.sansio`) yielding :class:`Ask` values; its
sync face drives it with :func:`run`, its async face with :func:`run_async`. Which face the
caller picked decides which resolver methods are called: nothing is guessed from the
resolver.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import Literal, TypeAlias, TypeVar

import attrs

from .._base.answers import AddressAnswer, CnameAnswer, MxAnswer, TxtAnswer
from .._base.sansio import drive, drive_async, remembered
from ..typing import AsyncHostResolver, AsyncResolver, HostResolver, Resolver

__all__ = [
    "Answer",
    "Ask",
    "Plan",
    "answer",
    "answer_async",
    "ask_addresses",
    "ask_cname",
    "ask_mx",
    "ask_txt",
    "memoized",
    "run",
    "run_async",
]

_T = TypeVar("_T")
_A = TypeVar("_A", TxtAnswer, CnameAnswer, MxAnswer, AddressAnswer)


@attrs.frozen
class Ask:
    """
    One question: TXT, CNAME, MX or the addresses (A and AAAA) of ``name``.

    ``shared`` marks a TXT question whose permanent answer a bulk run may share between
    domains (the key record behind a delegation target).
    """

    kind: Literal["TXT", "CNAME", "MX", "ADDRESSES"]
    name: str
    shared: bool = attrs.field(default=False, eq=False)


Answer: TypeAlias = "TxtAnswer | CnameAnswer | MxAnswer | AddressAnswer"
Plan: TypeAlias = Generator[Ask, Answer, _T]


def _asked(question: Ask, kind: type[_A]) -> Plan[_A]:
    reply = yield question
    assert isinstance(reply, kind)
    return reply


def ask_txt(name: str, *, shared: bool = False) -> Plan[TxtAnswer]:
    """Ask for the TXT records of ``name``."""
    return _asked(Ask("TXT", name, shared), TxtAnswer)


def ask_cname(name: str) -> Plan[CnameAnswer]:
    """Ask for the CNAME of ``name``."""
    return _asked(Ask("CNAME", name), CnameAnswer)


def ask_mx(name: str) -> Plan[MxAnswer]:
    """Ask for the MX records of ``name``."""
    return _asked(Ask("MX", name), MxAnswer)


def ask_addresses(name: str) -> Plan[AddressAnswer]:
    """Ask for the addresses of ``name``."""
    return _asked(Ask("ADDRESSES", name), AddressAnswer)


def answer(resolver: Resolver, hosts: HostResolver | None, ask: Ask) -> Answer:
    """Answer ``ask`` through a synchronous resolver (MX and addresses through ``hosts``)."""
    if ask.kind == "TXT":
        return resolver.txt(ask.name)
    if ask.kind == "CNAME":
        return resolver.cname(ask.name)
    assert hosts is not None  # a plan asks for hosts only when it has them
    return hosts.mx(ask.name) if ask.kind == "MX" else hosts.addresses(ask.name)


async def answer_async(
    resolver: AsyncResolver, hosts: AsyncHostResolver | None, ask: Ask
) -> Answer:
    """The asynchronous twin of :func:`answer`."""
    if ask.kind == "TXT":
        return await resolver.txt(ask.name)
    if ask.kind == "CNAME":
        return await resolver.cname(ask.name)
    assert hosts is not None  # a plan asks for hosts only when it has them
    if ask.kind == "MX":
        return await hosts.mx(ask.name)
    return await hosts.addresses(ask.name)


def run(plan: Plan[_T], resolver: Resolver, hosts: HostResolver | None = None) -> _T:
    """Drive ``plan`` through a synchronous resolver."""
    return drive(plan, partial(answer, resolver, hosts))


async def run_async(
    plan: Plan[_T], resolver: AsyncResolver, hosts: AsyncHostResolver | None = None
) -> _T:
    """Drive ``plan`` through an asynchronous resolver."""
    return await drive_async(plan, partial(answer_async, resolver, hosts))


def memoized(plan: Plan[_T]) -> Plan[_T]:
    """
    ``plan``, asking each TXT and CNAME question once: a repeated one gets the first
    answer again, or the first :class:`~oxdkim.exceptions.DnsError` raised again.
    """
    return remembered(plan, _txt_or_cname)


def _txt_or_cname(question: Ask) -> tuple[str, str] | None:
    return (question.kind, question.name) if question.kind in ("TXT", "CNAME") else None
