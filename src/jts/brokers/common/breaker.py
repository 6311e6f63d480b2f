"""Circuit breaker: stop calling a venue that keeps failing, probe it again later.

A venue that is down answers slowly or not at all; calling it anyway stacks up
timeouts in every caller and hammers it while it recovers. After
``failure_threshold`` consecutive failures the breaker opens and calls fail at
once with ``CircuitOpen`` (which proves nothing was sent). After
``reset_timeout`` one caller is let through as a probe (half-open): success
closes the breaker, failure opens it for another period.

Only transport-level trouble counts as failure. A rejection, an unknown order or
a rate-limit answer means the venue is up and talking. Written here rather than
taken from purgatory or aiobreaker because the breaker needs an injectable
clock for tests, listeners for the account pool, and the platform's own error
tree to decide what is a failure; it is forty lines.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import CircuitOpen
from jts.domain.errors import RateLimited


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


Listener = Callable[[str, BreakerState, str | None], None]


def counts_as_failure(exc: BaseException) -> bool:
    return isinstance(exc, BrokerUnavailable) and not isinstance(exc, RateLimited | CircuitOpen)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.last_error: str | None = None
        self._opened_at = 0.0
        self._probing = False
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """``listener(name, state, last_error)`` on every state change."""
        self._listeners.append(listener)

    def before_call(self) -> None:
        """Raise ``CircuitOpen`` unless a call may go out now."""
        if self.state is BreakerState.CLOSED:
            return
        if self.state is BreakerState.OPEN:
            remaining = self._opened_at + self.reset_timeout - self._clock()
            if remaining > 0:
                raise CircuitOpen(
                    f"{self.name}: circuit open after {self.failures} failures "
                    f"({self.last_error}); next probe in {remaining:.1f}s"
                )
            self._set(BreakerState.HALF_OPEN)
        if self._probing:
            raise CircuitOpen(f"{self.name}: circuit half-open, a probe is in flight")
        self._probing = True

    def record_success(self) -> None:
        self._probing = False
        self.failures = 0
        if self.state is not BreakerState.CLOSED:
            self._set(BreakerState.CLOSED)

    def record_failure(self, exc: BaseException) -> None:
        self._probing = False
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self._opened_at = self._clock()
            if self.state is not BreakerState.OPEN:
                self._set(BreakerState.OPEN)

    def release(self) -> None:
        """The call ended with an answer that says nothing about health (a rejection)."""
        if self._probing:
            self.record_success()

    def abandon(self) -> None:
        """The call was cancelled before an answer: let another caller probe."""
        self._probing = False

    def _set(self, state: BreakerState) -> None:
        self.state = state
        for listener in self._listeners:
            listener(self.name, state, self.last_error)
