"""The guard: what is retried, what opens the breaker, what a rate-limit answer does."""

from __future__ import annotations

import pytest

from jts.brokers.common.breaker import BreakerState
from jts.brokers.common.breaker import CircuitBreaker
from jts.brokers.common.guard import RetryPolicy
from jts.brokers.common.guard import VenueGuard
from jts.brokers.common.ratelimit import RateBudget
from jts.brokers.common.ratelimit import RateLimit
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import CircuitOpen
from jts.domain.errors import OrderRejectedByVenue
from jts.domain.errors import OutcomeUnknown
from jts.domain.errors import RateLimited
from jts.domain.errors import RequestNotSent


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_guard(t: FakeTime, *, threshold: int = 3, attempts: int = 4) -> VenueGuard:
    budget = RateBudget("v", [RateLimit(100, 1.0)], clock=t.clock, sleep=t.sleep)
    breaker = CircuitBreaker("v", failure_threshold=threshold, reset_timeout=10.0, clock=t.clock)
    return VenueGuard("v", budget, breaker, RetryPolicy(attempts=attempts), sleep=t.sleep)


class Script:
    """Raises the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_queries_are_retried_after_any_transient_failure() -> None:
    t = FakeTime()
    fn = Script(OutcomeUnknown("read timeout"), BrokerUnavailable("502"))
    assert await make_guard(t).call(fn, idempotent=True) == "ok"
    assert fn.calls == 3


async def test_an_order_is_never_resent_after_an_unknown_outcome() -> None:
    t = FakeTime()
    fn = Script(OutcomeUnknown("connection dropped after sending"))
    with pytest.raises(OutcomeUnknown):
        await make_guard(t).call(fn, idempotent=False)
    assert fn.calls == 1


async def test_an_order_is_resent_when_the_venue_provably_did_nothing() -> None:
    t = FakeTime()
    fn = Script(RequestNotSent("connection refused"), RateLimited("EGW00201", retry_after=0.5))
    assert await make_guard(t).call(fn, idempotent=False) == "ok"
    assert fn.calls == 3
    assert 0.5 in t.slept  # the venue's back-off, not the exponential one


async def test_rejections_are_not_retried_and_do_not_open_the_breaker() -> None:
    t = FakeTime()
    guard = make_guard(t, threshold=1)
    fn = Script(OrderRejectedByVenue("insufficient cash", "APBK0919"))
    with pytest.raises(OrderRejectedByVenue):
        await guard.call(fn, idempotent=True)
    assert fn.calls == 1
    assert guard.breaker.state is BreakerState.CLOSED


async def test_breaker_opens_fails_fast_then_probes_and_closes() -> None:
    t = FakeTime()
    guard = make_guard(t, threshold=3, attempts=1)
    changes: list[BreakerState] = []
    guard.breaker.subscribe(lambda name, state, err: changes.append(state))
    for _ in range(3):
        with pytest.raises(BrokerUnavailable):
            await guard.call(Script(BrokerUnavailable("503")), idempotent=True)
    assert guard.breaker.state is BreakerState.OPEN
    untouched = Script()
    with pytest.raises(CircuitOpen):
        await guard.call(untouched, idempotent=True)
    assert untouched.calls == 0
    t.now += 10.0
    assert await guard.call(Script(), idempotent=True) == "ok"
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


async def test_a_failed_probe_reopens_for_another_period() -> None:
    t = FakeTime()
    guard = make_guard(t, threshold=1, attempts=1)
    with pytest.raises(BrokerUnavailable):
        await guard.call(Script(BrokerUnavailable("down")), idempotent=True)
    t.now += 10.0
    with pytest.raises(BrokerUnavailable):
        await guard.call(Script(BrokerUnavailable("still down")), idempotent=True)
    assert guard.breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen, match="still down"):
        await guard.call(Script(), idempotent=True)


async def test_rate_limit_answer_pauses_the_whole_budget() -> None:
    t = FakeTime()
    guard = make_guard(t)
    fn = Script(RateLimited("too many"))
    assert await guard.call(fn, idempotent=True) == "ok"
    # Slept once for the retry wait; the budget pause had expired by then.
    assert guard.budget.usage().paused_for == 0
    assert guard.retries == 1
