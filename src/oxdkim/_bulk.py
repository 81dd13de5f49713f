"""Bulk work over many domains: at most ``concurrency`` in flight, results in input order."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

_T = TypeVar("_T")
_R = TypeVar("_R")


async def map_bounded(
    items: Sequence[_T],
    work: Callable[[_T], Awaitable[_R]],
    concurrency: int,
    progress: Callable[[int, int, _R], object] | None = None,
) -> list[_R]:
    """
    ``[await work(item) for item in items]`` with at most ``concurrency`` running at once.

    ``progress(done, total, result)`` is called after each item, in the event loop. If one
    item fails, the others are cancelled and the exception propagates.
    """
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

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, max(len(items), 1)))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return cast(list[_R], results)
