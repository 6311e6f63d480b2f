"""Every venue call goes through one guard: breaker, rate budget, then retries.

Retries follow one rule. A query may be repeated after any transient failure.
An order may be repeated only when the failure proves the venue did nothing
(``RequestNotSent``: connection refused, rate-limit answer, open circuit);
after ``OutcomeUnknown`` it is the caller's job to mark the order UNKNOWN and
reconcile, because a second send could be a second order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying
from tenacity import RetryCallState
from tenacity import retry_if_exception
from tenacity import stop_after_attempt
from tenacity import wait_exponential_jitter

from jts.brokers.common.breaker import CircuitBreaker
from jts.brokers.common.breaker import counts_as_failure
from jts.brokers.common.ratelimit import RateBudget
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import CircuitOpen
from jts.domain.errors import RateLimited
from jts.domain.errors import RequestNotSent

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    initial_wait: float = 0.2
    max_wait: float = 5.0
    # Pause given to everyone on the budget when the venue says "too many" without a hint.
    rate_limit_pause: float = 1.0


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    if isinstance(exc, CircuitOpen):
        return False
    if idempotent:
        return isinstance(exc, BrokerUnavailable)
    return isinstance(exc, RequestNotSent)


class VenueGuard:
    """Breaker, budget and retry policy of one venue account."""

    def __init__(
        self,
        name: str,
        budget: RateBudget,
        breaker: CircuitBreaker | None = None,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self.budget = budget
        self.breaker = breaker or CircuitBreaker(name)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self.retries = 0

    async def call(self, fn: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """``fn()`` under the guard; the last error is re-raised when retries are spent."""
        policy = self.policy
        fallback = wait_exponential_jitter(multiplier=policy.initial_wait, max=policy.max_wait)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited):
                return exc.retry_after or policy.rate_limit_pause
            return fallback(state)

        def before_sleep(state: RetryCallState) -> None:
            self.retries += 1

        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait,
            retry=retry_if_exception(lambda e: is_retryable(e, idempotent=idempotent)),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return await retrying(self._once, fn)

    async def _once(self, fn: Callable[[], Awaitable[T]]) -> T:
        self.breaker.before_call()
        try:
            await self.budget.acquire()
            result = await fn()
        except RateLimited as exc:
            self.budget.pause(exc.retry_after or self.policy.rate_limit_pause)
            if exc.retry_after is None:  # a pace refusal, not a "wait a minute" (token)
                self.budget.slow_down()
            self.breaker.release()
            raise
        except asyncio.CancelledError:
            self.breaker.abandon()
            raise
        except BaseException as exc:
            if counts_as_failure(exc):
                self.breaker.record_failure(exc)
            else:
                self.breaker.release()
            raise
        self.breaker.record_success()
        self.budget.answered()
        return result
