"""
One way to do sync and async: a sans-I/O plan, driven by a sync or an async driver.

A plan is a generator that yields the questions it needs answered (DNS names, queries)
and receives each answer, or the :class:`~oxdkim.exceptions.DnsError` raised while
asking, thrown into it; it returns the result. It does no I/O and knows nothing of
event loops, so the sync and async faces of a feature (DMARC evaluation, the tree walk,
the SPF analysis) run the same plan and cannot drift apart. dnspython's ``_Resolution``
is the model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Hashable
from typing import Generic, TypeVar

from ..exceptions import DnsError

__all__ = ["AsyncByClass", "drive", "drive_async", "relay", "remembered"]

_Q = TypeVar("_Q")
_A = TypeVar("_A")
_R = TypeVar("_R")
_Q2 = TypeVar("_Q2")
_A2 = TypeVar("_A2")


class AsyncByClass:
    """
    Base of oxdkim's own asynchronous resolvers: it says by class, not by probing the
    object, that their methods are to be awaited. The bulk runners whose documented
    signature takes either kind of resolver (``audit_many``, ``preview_many``) read it
    with ``isinstance``.
    """

    __slots__ = ()


def drive(plan: Generator[_Q, _A, _R], fetch: Callable[[_Q], _A]) -> _R:
    """
    Run a sans-I/O ``plan`` synchronously: answer each request it yields with ``fetch``.

    A :class:`~oxdkim.exceptions.DnsError` raised by ``fetch`` is thrown into the plan,
    which may handle it or let it propagate to the caller.
    """
    step = _Step(plan)
    while not step.done:
        try:
            answer = fetch(step.request)
        except DnsError as exc:
            step.fail(exc)
        else:
            step.answer(answer)
    return step.result


async def drive_async(plan: Generator[_Q, _A, _R], fetch: Callable[[_Q], Awaitable[_A]]) -> _R:
    """The asynchronous twin of :func:`drive`; the plan is the same object."""
    step = _Step(plan)
    while not step.done:
        try:
            answer = await fetch(step.request)
        except DnsError as exc:
            step.fail(exc)
        else:
            step.answer(answer)
    return step.result


class _Step(Generic[_Q, _A, _R]):
    """Where a plan stands: its pending request, or (once done) its result."""

    __slots__ = ("_plan", "done", "request", "result")

    def __init__(self, plan: Generator[_Q, _A, _R]) -> None:
        self._plan = plan
        self.done = False
        self._move(lambda: next(plan))

    def answer(self, answer: _A) -> None:
        self._move(lambda: self._plan.send(answer))

    def fail(self, error: DnsError) -> None:
        self._move(lambda: self._plan.throw(error))

    def _move(self, advance: Callable[[], _Q]) -> None:
        try:
            self.request = advance()
        except StopIteration as stop:
            self.done = True
            self.result: _R = stop.value


def relay(
    plan: Generator[_Q, _A, _R], fetch: Callable[[_Q], Generator[_Q2, _A2, _A]]
) -> Generator[_Q2, _A2, _R]:
    """
    Run ``plan`` inside another plan: each request it yields is answered by the sub-plan
    ``fetch(request)``, whose own questions go out to the outer driver.

    Translating questions (a name into a TXT question), answering some without I/O or
    remembering answers are such sub-plans. A :class:`~oxdkim.exceptions.DnsError` that
    leaves a sub-plan is thrown into ``plan``, as the drivers do.
    """
    step = _Step(plan)
    while not step.done:
        try:
            answer = yield from fetch(step.request)
        except DnsError as exc:
            step.fail(exc)
        else:
            step.answer(answer)
    return step.result


def remembered(
    plan: Generator[_Q, _A, _R], key: Callable[[_Q], Hashable | None]
) -> Generator[_Q, _A, _R]:
    """
    ``plan``, asking once each question whose ``key`` is not ``None``: a repeat gets the
    first answer again, or the first :class:`~oxdkim.exceptions.DnsError` raised again.
    """
    answers: dict[Hashable, _A | DnsError] = {}

    def ask(question: _Q) -> Generator[_Q, _A, _A]:
        known = key(question)
        if known is None:
            return (yield question)
        if known not in answers:
            try:
                answers[known] = yield question
            except DnsError as exc:
                answers[known] = exc
        hit = answers[known]
        if isinstance(hit, DnsError):
            raise hit
        return hit

    return relay(plan, ask)
