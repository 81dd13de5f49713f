"""Bulk work over many domains: at most ``concurrency`` in flight, results in input order."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar, cast

from .._base.answers import AddressAnswer, CnameAnswer, MxAnswer, TxtAnswer
from .._base.sansio import AsyncByClass
from ..exceptions import ConfigurationError
from ..typing import AsyncHostResolver, AsyncResolver, HostResolver, Resolver

_T = TypeVar("_T")
_R = TypeVar("_R")


def _workers(concurrency: object, items: int) -> int:
    if type(concurrency) is not int or concurrency < 1:
        raise ConfigurationError(f"concurrency must be an integer >= 1, not {concurrency!r}")
    return min(concurrency, max(items, 1))


async def map_bounded(
    items: Sequence[_T],
    work: Callable[[_T], Awaitable[_R]],
    concurrency: object,
    progress: Callable[[int, int, _R], object] | None = None,
) -> list[_R]:
    """
    ``[await work(item) for item in items]`` with at most ``concurrency`` running at once.

    ``progress(done, total, result)`` is called after each item, in the event loop. If one
    item fails, the others are cancelled and the exception propagates.

    Raises:
        ConfigurationError: ``concurrency`` is not an integer of at least 1.
    """
    workers = _workers(concurrency, len(items))
    results: list[_R | None] = [None] * len(items)
    indexes = itertools.count()
    done = 0

    async def worker() -> None:
        nonlocal done
        while (index := next(indexes)) < len(items):
            results[index] = result = await work(items[index])
            done += 1
            if progress is not None:
                progress(done, len(items), result)

    tasks = [asyncio.ensure_future(worker()) for _ in range(workers)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return cast(list[_R], results)


def map_threads(
    items: Sequence[_T],
    work: Callable[[_T], _R],
    concurrency: object,
    progress: Callable[[int, int, _R], object] | None = None,
    *,
    thread_name: str = "oxdkim",
) -> list[_R]:
    """
    The blocking twin of :func:`map_bounded`: ``concurrency`` threads (none for 1);
    ``progress`` is called in the calling thread.
    """
    workers = _workers(concurrency, len(items))
    results: list[_R | None] = [None] * len(items)
    if workers == 1:
        for index, item in enumerate(items):
            results[index] = result = work(item)
            if progress is not None:
                progress(index + 1, len(items), result)
        return cast(list[_R], results)
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name)
    try:
        futures = {executor.submit(work, item): index for index, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = result = future.result()
            if progress is not None:
                progress(done, len(items), result)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return cast(list[_R], results)


def run_outside_loop(start: Callable[[], Coroutine[Any, Any, _R]], what: str) -> _R:
    """
    Run an async bulk job from synchronous code in a new event loop.

    Raises:
        ConfigurationError: Called from inside a running loop (``await {what}_async()``).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(start())
    raise ConfigurationError(
        f"{what}() with an async resolver cannot run inside an event loop; "
        f"await {what}_async() instead"
    )


def run_many(
    resolver: Resolver | AsyncResolver,
    hosts: HostResolver | AsyncHostResolver | None,
    in_loop: Callable[[AsyncResolver, AsyncHostResolver | None], Coroutine[Any, Any, _R]],
    in_threads: Callable[[Resolver, HostResolver | None], _R],
    what: str,
) -> _R:
    """
    The sync bulk runners (``audit_many``, ``preview_many``), whose documented signature
    takes either kind of resolver (``hosts``: the same kind).

    oxdkim's own async resolvers say so by class (:class:`~oxdkim._base.sansio.AsyncByClass`):
    they run ``in_loop`` in a new event loop (:func:`run_outside_loop`). Any other resolver
    runs ``in_threads``, nothing read from it first; a custom async resolver shows itself
    there by answering with an awaitable, and runs in a new event loop after a
    :class:`DeprecationWarning` (call ``{what}_async`` for it).
    """
    if isinstance(resolver, AsyncByClass):
        chosen = cast(AsyncResolver, resolver)
        return run_outside_loop(
            lambda: in_loop(chosen, cast("AsyncHostResolver | None", hosts)), what
        )
    try:
        return in_threads(_Answers(resolver), None if hosts is None else _Answers(hosts))
    except _AwaitableAnswerError:
        pass
    warnings.warn(
        f"{what}() with an asynchronous resolver that is not one of oxdkim's is deprecated; "
        f"use asyncio.run({what}_async(...)) or await it",
        DeprecationWarning,
        stacklevel=3,
    )
    custom = cast(AsyncResolver, resolver)
    return run_outside_loop(lambda: in_loop(custom, cast("AsyncHostResolver | None", hosts)), what)


class _AwaitableAnswerError(Exception):
    """A resolver given to a sync bulk runner answered with an awaitable (never escapes)."""


_ANSWERS = (TxtAnswer, CnameAnswer, MxAnswer, AddressAnswer)


def _answered(answer: object) -> Any:
    if isinstance(answer, _ANSWERS):
        return answer
    if inspect.iscoroutine(answer):
        answer.close()  # never started: nothing ran, nothing to await
    if inspect.isawaitable(answer):
        raise _AwaitableAnswerError
    return answer


class _Answers:
    """
    A resolver of the threads path, each answer checked for being an answer (not an
    awaitable): the only way a custom async resolver is told from a sync one.
    """

    __slots__ = ("_resolver",)

    def __init__(self, resolver: Resolver | AsyncResolver | HostResolver | AsyncHostResolver):
        self._resolver: Any = resolver

    def txt(self, name: str) -> TxtAnswer:
        return cast(TxtAnswer, _answered(self._resolver.txt(name)))

    def cname(self, name: str) -> CnameAnswer:
        return cast(CnameAnswer, _answered(self._resolver.cname(name)))

    def mx(self, name: str) -> MxAnswer:
        return cast(MxAnswer, _answered(self._resolver.mx(name)))

    def addresses(self, name: str) -> AddressAnswer:
        return cast(AddressAnswer, _answered(self._resolver.addresses(name)))
