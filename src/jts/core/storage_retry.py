"""Waiting out a storage outage: a locked SQLite file or an unreachable PostgreSQL.

A handler that cannot store an order must not drop it: it retries with growing,
jittered pauses while its event stays unacknowledged (the in-process lane and the
Kafka partition wait with it), and only after ``give_up_after`` seconds does it
raise, so its caller can park the event as a dead letter. Only
``StorageUnavailable`` is retried; a refusal (a duplicate, a stale order) is not
an outage and goes straight through.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying
from tenacity import RetryCallState
from tenacity import retry_if_exception_type
from tenacity import stop_after_delay
from tenacity import wait_exponential_jitter

from jts.domain.errors import ConfigurationError
from jts.domain.errors import StorageUnavailable

T = TypeVar("T")

log = logging.getLogger("jts.storage.retry")


@dataclass(frozen=True, slots=True)
class StorageRetry:
    """How long a handler waits for the store before it gives up to a dead letter."""

    # Under Kafka's default max.poll.interval (5 min): a consumer blocked longer leaves its group.
    give_up_after: float = 240.0
    initial_wait: float = 0.1
    max_wait: float = 5.0

    def __post_init__(self) -> None:
        if self.give_up_after < 0 or self.initial_wait <= 0 or self.max_wait < self.initial_wait:
            raise ConfigurationError(
                "StorageRetry: give_up_after >= 0 and 0 < initial_wait <= max_wait"
            )

    async def call(self, what: str, action: Callable[[], Awaitable[T]]) -> T:
        """``action()`` until it stops raising ``StorageUnavailable`` or time is up.

        Raises the last ``StorageUnavailable`` once ``give_up_after`` seconds have passed.
        The first try runs outside the retry loop: nearly every call succeeds at once, and
        building the loop costs more than a store call in memory (a backtest makes one per
        order step). A failed first try then starts the loop, which tries again at once.
        """
        try:
            return await action()
        except StorageUnavailable as exc:
            log.info("%s: the store is unavailable, retrying: %s", what, exc)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            if state.attempt_number == 1 or state.attempt_number % 10 == 0:
                log.warning(
                    "%s waits for the store (attempt %d, %.1f s so far): %s",
                    what,
                    state.attempt_number,
                    state.seconds_since_start or 0.0,
                    error,
                )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(StorageUnavailable),
            stop=stop_after_delay(self.give_up_after),
            wait=wait_exponential_jitter(multiplier=self.initial_wait, max=self.max_wait),
            before_sleep=before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await action()
        raise AssertionError("unreachable: tenacity either returned or raised")
