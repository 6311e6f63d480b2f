"""Market data values: ticks and bars, with the timeframes bars come in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from jts.domain.errors import DataError
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import NANOS_PER_MINUTE


class Timeframe(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    D1 = "1d"

    @property
    def nanos(self) -> int:
        return _TIMEFRAME_NANOS[self]

    @property
    def seconds(self) -> int:
        return self.nanos // 1_000_000_000


_TIMEFRAME_NANOS = {
    Timeframe.M1: NANOS_PER_MINUTE,
    Timeframe.M5: 5 * NANOS_PER_MINUTE,
    Timeframe.M15: 15 * NANOS_PER_MINUTE,
    Timeframe.M30: 30 * NANOS_PER_MINUTE,
    Timeframe.H1: 60 * NANOS_PER_MINUTE,
    Timeframe.D1: NANOS_PER_DAY,
}


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade print."""

    instrument_id: str
    ts: int
    price: Decimal
    size: Decimal

    def __post_init__(self) -> None:
        if self.price <= 0 or self.size <= 0:
            raise DataError(f"tick {self.instrument_id}@{self.ts}: price and size must be positive")


@dataclass(frozen=True, slots=True)
class Bar:
    """OHLCV over ``[ts, ts + timeframe)``; ``ts`` is the UTC open time in nanoseconds."""

    instrument_id: str
    timeframe: Timeframe
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        problem = bar_problem(self.open, self.high, self.low, self.close, self.volume)
        if problem:
            raise DataError(f"bar {self.instrument_id}@{self.ts}: {problem}")

    @property
    def close_ts(self) -> int:
        """When the bar is complete and may be acted on."""
        return self.ts + self.timeframe.nanos


def bar_problem(
    open_: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal
) -> str | None:
    """Why these OHLCV values cannot be a bar, or None when they can."""
    if min(open_, high, low, close) <= 0:
        return "prices must be positive"
    if volume < 0:
        return "volume must not be negative"
    if low > min(open_, close) or high < max(open_, close) or low > high:
        return f"inconsistent OHLC (o={open_} h={high} l={low} c={close})"
    return None
