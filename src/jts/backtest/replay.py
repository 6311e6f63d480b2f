"""Drives the trading kernel through recorded market data on a simulated clock.

The loop is the embedded platform's, always in lockstep: for each batch (the bars of one
minute) the clock moves to the batch's time, the simulated venue matches working orders
against the new data, the collector publishes the bars, and the bus settles before the
next minute. An order placed on a bar's signal is accepted at that bar's close, so the
venue can only fill it from the next bar on. Equity is sampled after every settled
minute (and once before the first), so the same data always gives the same curve.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from jts.backtest.fingerprint import fingerprint
from jts.backtest.metrics import BacktestMetrics
from jts.backtest.metrics import Point
from jts.backtest.metrics import measure
from jts.core.clocks import SimClock
from jts.domain.fills import Fill
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.ports import FillRepository
from jts.services.kernel import TradingKernel

Batches = Iterable[MarketDataBatch] | AsyncIterable[MarketDataBatch]
StepCallback = Callable[[MarketDataBatch], None]


class SimulatedVenue(Protocol):
    """The execution side of a simulated venue: it sees market data before the strategies."""

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def on_batch(self, batch: MarketDataBatch) -> Sequence[ExecutionReport]: ...

    def match(self, batch: MarketDataBatch) -> list[ExecutionReport]:
        """``on_batch``'s matching alone; the reports are not delivered yet."""
        ...

    async def deliver(self, reports: list[ExecutionReport]) -> None:
        """Deliver what ``match`` returned."""
        ...


@dataclass(frozen=True, slots=True)
class BacktestResult:
    fills: tuple[Fill, ...]
    equity: tuple[Point, ...]
    metrics: BacktestMetrics
    fingerprint: str
    # Market minutes replayed; the first bar's open and the last batch's time.
    steps: int
    start_ts: int
    end_ts: int


async def run_backtest(
    kernel: TradingKernel,
    clock: SimClock,
    venue: SimulatedVenue,
    fills: FillRepository,
    batches: Batches,
    *,
    on_step: StepCallback | None = None,
) -> BacktestResult:
    """Replay ``batches`` through ``kernel``; ``fills`` is the kernel's fill repository."""
    replay = _Replay(kernel, clock, venue, on_step)
    await kernel.bus.start()
    await venue.connect()
    kernel.hold_signals(True)
    await kernel.start()
    try:
        # Two loops, not one over an async generator wrapping a plain iterable: that
        # would cost a generator step per minute for nothing.
        if isinstance(batches, AsyncIterable):
            async for batch in batches:
                await replay.step(batch)
        else:
            for batch in batches:
                await replay.step(batch)
    finally:
        await kernel.stop()
        kernel.hold_signals(False)
        await kernel.bus.stop()
        await venue.disconnect()
    start_ts, equity = replay.start_ts, replay.equity
    if start_ts is None:
        raise ValueError("nothing to backtest: the data has no bars")
    final = (clock.timestamp_ns(), kernel.portfolio.equity())
    if equity[-1] != final:
        equity.append(final)
    # By market time; the store's own order (the venue's) within one minute.
    recorded = tuple(sorted(await fills.list(), key=lambda f: f.ts))
    return BacktestResult(
        fills=recorded,
        equity=tuple(equity),
        metrics=measure(equity, recorded),
        fingerprint=fingerprint(recorded, equity),
        steps=replay.steps,
        start_ts=start_ts,
        end_ts=clock.timestamp_ns(),
    )


class _Replay:
    """One market minute at a time: the venue, then the collector, then settle, then equity."""

    __slots__ = ("clock", "equity", "kernel", "on_step", "start_ts", "steps", "venue")

    def __init__(
        self,
        kernel: TradingKernel,
        clock: SimClock,
        venue: SimulatedVenue,
        on_step: StepCallback | None,
    ) -> None:
        self.kernel = kernel
        self.clock = clock
        self.venue = venue
        self.on_step = on_step
        self.equity: list[Point] = []
        self.steps = 0
        self.start_ts: int | None = None

    async def step(self, batch: MarketDataBatch) -> None:
        kernel = self.kernel
        self.clock.set_time(batch.ts)
        if self.start_ts is None:
            self.start_ts = min((bar.ts for bar in batch.bars), default=batch.ts)
            self.equity.append((batch.ts, kernel.portfolio.equity()))
        # ``on_batch`` in two halves: most minutes fill nothing, and then cost no coroutine.
        reports = self.venue.match(batch)
        if reports:
            await self.venue.deliver(reports)
        await kernel.collector.ingest(batch)
        await kernel.settle()
        self.steps += 1
        self.equity.append((batch.ts, kernel.portfolio.equity()))
        if self.on_step is not None:
            self.on_step(batch)
