"""Bulk work over many domains: at most ``concurrency`` in flight, results in input order."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar, cast

from ..exceptions import ConfigurationError
from ..typing import AsyncResolver, Resolver

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
    in_loop: Callable[[AsyncResolver], Coroutine[Any, Any, _R]],
    in_threads: Callable[[Resolver], _R],
    what: str,
) -> _R:
    """
    The sync bulk runners (``audit_many``, ``preview_many``), whose documented signature
    takes either kind of resolver: an async one runs ``in_loop`` in a new event loop
    (:func:`run_outside_loop`), a sync one ``in_threads``.

    This is the one place a resolver's kind is read from the resolver (its ``txt`` is a
    coroutine function); every other entry point is sync or async by its own name.
    """
    if inspect.iscoroutinefunction(getattr(resolver, "txt", None)):
        chosen = cast(AsyncResolver, resolver)
        return run_outside_loop(lambda: in_loop(chosen), what)
    return in_threads(cast(Resolver, resolver))
