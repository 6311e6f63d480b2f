"""Progress of a run: a live bar on a terminal, whole plain lines in a log or a pipe.

Rich draws its bar only on a terminal; elsewhere it prints one final line cut to the
console width. A log needs complete lines at a sane cadence instead: one when a market
session ends, one every ``interval`` seconds of a slow run, and one at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import date

from rich.console import Console

from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import KST
from jts.domain.timestamps import ns_to_dt
from jts.services.kernel import TradingKernel


@dataclass(frozen=True, slots=True)
class Counts:
    bars: int
    signals: int
    orders: int
    fills: int

    @classmethod
    def of(cls, kernel: TradingKernel) -> Counts:
        return cls(
            bars=kernel.collector.stats.bars,
            signals=kernel.strategy_engine.stats.signals,
            orders=kernel.execution.stats.orders,
            fills=kernel.execution.stats.fills,
        )


def market_time(ts: int) -> str:
    return ns_to_dt(ts).astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@dataclass(slots=True)
class PlainProgress:
    """Writes a complete progress line per market session and at least every ``interval`` s."""

    console: Console
    total: int | None
    counts: Callable[[], Counts]
    interval: float = 30.0
    now: Callable[[], float] = time.monotonic
    _started: float = field(init=False, default=0.0)
    _last_print: float = field(init=False, default=0.0)
    _steps: int = field(init=False, default=0)
    _day: date | None = field(init=False, default=None)
    _pending: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._started = self._last_print = self.now()

    def on_step(self, batch: MarketDataBatch) -> None:
        day = ns_to_dt(batch.ts).astimezone(KST).date()
        if self._day is not None and day != self._day and self._pending is not None:
            self._emit(self._pending)  # the previous session's last minute
        self._day = day
        self._steps += 1
        self._pending = self._line(batch.ts)
        if self.now() - self._last_print >= self.interval:
            self._emit(self._pending)

    def finish(self) -> None:
        if self._pending is not None:
            self._emit(self._pending)

    def _line(self, ts: int) -> str:
        c = self.counts()
        done = f"{self._steps:,}" + (f"/{self.total:,}" if self.total is not None else "")
        elapsed = _elapsed(self.now() - self._started)
        return (
            f"{market_time(ts)}  minutes {done}  bars {c.bars:,}  signals {c.signals:,}  "
            f"orders {c.orders:,}  fills {c.fills:,}  elapsed {elapsed}"
        )

    def _emit(self, line: str) -> None:
        # soft_wrap: the line is written whole, never cut or folded to the console width.
        self.console.print(line, soft_wrap=True, markup=False, highlight=False)
        self._last_print = self.now()
        self._pending = None
