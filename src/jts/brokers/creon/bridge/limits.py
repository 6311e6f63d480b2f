"""Pace requests by Creon's own counters, so Creon never has to refuse one.

Creon allows 60 look-ups and 20 order/account requests per 15 seconds and
tells how many are left (``GetLimitRemainCount``) and when the counters reset
(``LimitRequestRemainTime``, ms). Counting on our side would drift from
Creon's count (other programs on the PC share it), so the gate asks Creon
before each request. The check and the request run in one job on the COM
thread, so no other request can take the last slot in between. When the
counter is spent the gate sleeps the remaining time on the event loop; when
that wait is longer than ``max_wait`` it gives up with a retry-after instead
of holding an HTTP request open.

A look-up of many pages (a long chart, hundreds of open orders) can need more
requests than one 15-second window allows; refusing it would make every retry
fail the same way. Its pages share a ``WaitBudget`` instead: each page waits
for the next window as long as the look-up's total waiting stays within the
budget (60 s by default), and only then gives up with 429.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic
from typing import TypeVar

from jts.brokers.creon.bridge.com import ComWorker
from jts.brokers.creon.bridge.com import Cybos
from jts.brokers.creon.bridge.errors import BridgeError

T = TypeVar("T")

# Creon's clock and ours differ slightly: wait a little past the announced reset.
_MARGIN = 0.05


@dataclass(slots=True)
class WaitBudget:
    """Seconds the pages of one look-up may still spend waiting for Creon's counter."""

    left: float


@dataclass(frozen=True, slots=True)
class _Wait:
    ms: int


@dataclass(frozen=True, slots=True)
class _Done(Generic[T]):
    value: T


class LimitGate:
    """Runs COM requests of one kind only when Creon's counter has room."""

    def __init__(
        self,
        worker: ComWorker,
        cybos: Callable[[], Cybos],
        *,
        max_wait: float = 3.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._worker = worker
        self._cybos = cybos
        self.max_wait = max_wait
        self._sleep = sleep
        self.waits = 0
        self.waited = 0.0

    async def call(self, kind: int, fn: Callable[[], T], budget: WaitBudget | None = None) -> T:
        """``fn()`` on the COM thread once Creon's ``kind`` counter has room.

        Without a ``budget`` one wait may last ``max_wait``; with one, waits are
        taken from it (a page of a long look-up).
        """
        while True:
            outcome = await self._worker.run(lambda: self._attempt(kind, fn))
            if isinstance(outcome, _Done):
                return outcome.value
            seconds = outcome.ms / 1000 + _MARGIN
            allowed = self.max_wait if budget is None else budget.left
            if seconds > allowed:
                paged = "" if budget is None else " (the look-up's waiting budget is spent)"
                raise BridgeError(
                    429,
                    "RATE_LIMITED",
                    f"Creon request counter {kind} is spent for {seconds:.1f}s{paged}",
                    retry_after=seconds,
                )
            if budget is not None:
                budget.left -= seconds
            self.waits += 1
            self.waited += seconds
            await self._sleep(seconds)

    def _attempt(self, kind: int, fn: Callable[[], T]) -> _Wait | _Done[T]:
        cybos = self._cybos()
        if not cybos.IsConnect:
            raise BridgeError(503, "NOT_CONNECTED", "Creon Plus is not connected")
        if cybos.GetLimitRemainCount(kind) <= 0:
            return _Wait(max(1, int(cybos.LimitRequestRemainTime)))
        return _Done(fn())
