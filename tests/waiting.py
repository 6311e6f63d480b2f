"""Waiting in tests for state another task or process will reach."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(condition: Callable[[], object], within: float = 5.0) -> None:
    """Return once ``condition()`` is true; fail with TimeoutError after ``within`` seconds.

    Polls, because the state belongs to code (a fake venue, a socket task) that
    has no event to wait on.
    """
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)
