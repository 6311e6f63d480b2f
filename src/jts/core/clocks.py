"""Clock implementations: the wall clock for live trading, settable ones for simulations.

A process of the distributed platform replaying simulated or recorded data has no
clock of its own to trust: its time is the market time of the events it handles
(``MarketClock``), so an order created there carries the time of the bar behind it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from jts.domain.timestamps import ns_to_dt


class LiveClock:
    """UTC wall-clock time (a ``WallClock``: it can also wait)."""

    def timestamp_ns(self) -> int:
        return time.time_ns()

    def utc_now(self) -> datetime:
        return ns_to_dt(self.timestamp_ns())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SimClock:
    """Time that moves only when the simulation moves it, and never backwards."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def timestamp_ns(self) -> int:
        return self._now

    def utc_now(self) -> datetime:
        return ns_to_dt(self._now)

    def set_time(self, ts: int) -> None:
        if ts < self._now:
            raise ValueError(f"SimClock cannot go back from {self._now} to {ts}")
        self._now = ts

    def advance(self, nanos: int) -> None:
        self.set_time(self._now + nanos)


class MarketClock(SimClock):
    """Market time as seen through events: moves forward to the newest time observed."""

    def observe(self, ts: int) -> None:
        self._now = max(self._now, ts)
