"""One-minute bars built from trade prints, for venues that stream trades only.

A minute's bar is complete when a print of a later minute arrives for the same
instrument, or when the caller flushes at a minute boundary (``close_before``)
so a quiet instrument's last bar is not held back until its next trade. Prints
older than the open minute (late or replayed) are dropped and counted: a bar
once emitted is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_MINUTE


@dataclass(slots=True)
class _Open:
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def bar(self, instrument_id: str) -> Bar:
        return Bar(
            instrument_id,
            Timeframe.M1,
            self.ts,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )


class MinuteBarBuilder:
    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self.late = 0

    def add(self, tick: Tick) -> Bar | None:
        """Fold ``tick`` in; returns the previous minute's bar when this tick closes it."""
        minute = tick.ts - tick.ts % NANOS_PER_MINUTE
        current = self._open.get(tick.instrument_id)
        if current is not None and minute < current.ts:
            self.late += 1
            return None
        if current is not None and minute == current.ts:
            current.high = max(current.high, tick.price)
            current.low = min(current.low, tick.price)
            current.close = tick.price
            current.volume += tick.size
            return None
        p = tick.price
        self._open[tick.instrument_id] = _Open(minute, p, p, p, p, tick.size)
        return None if current is None else current.bar(tick.instrument_id)

    def close_before(self, ts: int) -> list[Bar]:
        """Bars of every minute that ended at or before ``ts``."""
        done = [k for k, o in self._open.items() if o.ts + NANOS_PER_MINUTE <= ts]
        return [self._open.pop(k).bar(k) for k in done]
