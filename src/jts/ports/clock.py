"""Where services, strategies and the backtester read the time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def timestamp_ns(self) -> int:
        """Now, in UTC nanoseconds."""
        ...

    def utc_now(self) -> datetime:
        """Now, as an aware UTC datetime."""
        ...


class WallClock(Clock, Protocol):
    """Real time, for upkeep that follows the wall whatever clock trading runs on.

    The outbox relay is one: its rows are stamped with wall time when committed,
    while the trading clock of the same process may be simulated or market time.
    """

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...
