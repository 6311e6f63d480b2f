"""In-process latency of the order path, from market data to the venue's answer and the fill.

Extra consumer groups (``bench-latency``) on ``signals``, ``orders.events`` and ``fills``
stamp every event with ``perf_counter_ns`` when the bus delivers it, matched by client
order id (``client_order_id_for(signal_id)``). The paper venue's ``on_batch`` is wrapped
to stamp when each minute's bars reach the venue. The run is in lockstep, so everything
a minute causes happens before the next minute arrives and can be charged to it.

- bar -> signal: the minute's bars reach the venue, the collector checks, buffers and
  publishes them, the strategy engine runs the strategy, the signal is published;
- signal -> NEW / SUBMITTED / ACCEPTED: the software path of an order: sizing (every
  held signal of the minute), the minute's orders stored NEW and SUBMITTED in one
  commit, published, the venue's checks, ACCEPTED stored and published (two SQLite
  commits with fsync per order on its path, the first shared by the minute);
- bar -> ACCEPTED: the two above together, market data in to a working order at the venue;
- next bar -> fill: the paper venue fills only against a LATER bar than the signal's;
  from that bar reaching the venue to the FillEvent on ``fills`` (matching, the fill
  and order stored in one transaction, published);
- signal -> fill (wall clock): includes waiting for the next bar, which in a flat-out
  run is the rest of the minute's processing (live, up to a minute of market time).

``--burst MINUTES`` measures instead one signal per symbol in every minute (the strategy
bypassed), all sized in one settle: signal -> NEW / SUBMITTED / ACCEPTED.

Run alone: ``.venv/bin/python benchmarks/bench_latency.py [--symbols 50 --sessions 1]``
or ``... --symbols 50 --burst 40``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from rich.console import Console

from harness import run_with_progress
from harness import temporary_platform
from jts.app.platform import Platform
from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import OrderStatusChanged
from jts.domain.events import SignalEvent
from jts.domain.reports import MarketDataBatch
from jts.domain.signals import Signal
from jts.services.execution import client_order_id_for

SYMBOLS = 50
SESSIONS = 1
TARGET_MS = 500.0  # the roadmap: order execution latency < 500 ms
BURST_MINUTES = 40
BURST_TARGET_MS = 2.0  # issue 11: signal -> SUBMITTED p99 with 50 signals in one minute


@dataclass(slots=True)
class Stamp:
    seen_ns: int
    minute_arrived_ns: int  # when the minute being processed reached the venue


@dataclass(slots=True)
class LatencyProbe:
    """Consumer groups and a venue hook that stamp each order's milestones."""

    group: str = "bench-latency"
    minute_arrived_ns: int = 0
    signals: dict[str, Stamp] = field(default_factory=dict)
    statuses: dict[str, dict[OrderStatus, int]] = field(default_factory=dict)
    first_fills: dict[str, Stamp] = field(default_factory=dict)

    def attach(self, platform: Platform) -> None:
        bus = platform.bus
        bus.subscribe(topics.SIGNALS, self._on_signal, group=self.group)
        bus.subscribe(topics.ORDERS_EVENTS, self._on_status, group=self.group)
        bus.subscribe(topics.FILLS, self._on_fill, group=self.group)
        venue = platform.venue
        original = venue.on_batch

        async def stamped(batch: MarketDataBatch) -> Any:
            self.minute_arrived_ns = time.perf_counter_ns()
            return await original(batch)

        venue.on_batch = stamped  # type: ignore[method-assign]

    def _stamp(self) -> Stamp:
        return Stamp(time.perf_counter_ns(), self.minute_arrived_ns)

    async def _on_signal(self, event: Event) -> None:
        if isinstance(event, SignalEvent):
            self.signals[client_order_id_for(event.signal.signal_id)] = self._stamp()

    async def _on_status(self, event: Event) -> None:
        if isinstance(event, OrderStatusChanged):
            seen = self.statuses.setdefault(event.client_order_id, {})
            seen.setdefault(event.status, time.perf_counter_ns())

    async def _on_fill(self, event: Event) -> None:
        if isinstance(event, FillEvent) and event.fill.client_order_id not in self.first_fills:
            self.first_fills[event.fill.client_order_id] = self._stamp()

    def samples(self) -> dict[str, list[int]]:
        """Nanosecond samples per path, over the orders that reached each milestone."""
        paths: dict[str, list[int]] = {
            "bar -> signal": [],
            "signal -> order NEW": [],
            "signal -> SUBMITTED": [],
            "signal -> ACCEPTED": [],
            "bar -> ACCEPTED": [],
            "next bar at venue -> first fill": [],
            "signal -> first fill (wall clock)": [],
        }
        for order_id, signal in self.signals.items():
            paths["bar -> signal"].append(signal.seen_ns - signal.minute_arrived_ns)
            seen = self.statuses.get(order_id, {})
            if OrderStatus.NEW in seen:
                paths["signal -> order NEW"].append(seen[OrderStatus.NEW] - signal.seen_ns)
            if OrderStatus.SUBMITTED in seen:
                paths["signal -> SUBMITTED"].append(seen[OrderStatus.SUBMITTED] - signal.seen_ns)
            if OrderStatus.ACCEPTED in seen:
                accepted = seen[OrderStatus.ACCEPTED]
                paths["signal -> ACCEPTED"].append(accepted - signal.seen_ns)
                paths["bar -> ACCEPTED"].append(accepted - signal.minute_arrived_ns)
            fill = self.first_fills.get(order_id)
            if fill is not None:
                paths["next bar at venue -> first fill"].append(
                    fill.seen_ns - fill.minute_arrived_ns
                )
                paths["signal -> first fill (wall clock)"].append(fill.seen_ns - signal.seen_ns)
        return paths

    def rejected(self) -> int:
        return sum(OrderStatus.REJECTED in seen for seen in self.statuses.values())


def nearest_rank(ordered: list[float], q: float) -> float:
    """The ``q``-th percentile by the nearest-rank method (a value that was observed)."""
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Distribution:
    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, samples_ns: list[int]) -> Distribution:
        if not samples_ns:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        ms = sorted(s / 1e6 for s in samples_ns)
        return cls(
            count=len(ms),
            mean_ms=sum(ms) / len(ms),
            p50_ms=nearest_rank(ms, 50),
            p90_ms=nearest_rank(ms, 90),
            p99_ms=nearest_rank(ms, 99),
            max_ms=ms[-1],
        )


@dataclass(frozen=True, slots=True)
class LatencyResult:
    symbols: int
    sessions: int
    run_seconds: float
    signals: int
    orders: int
    rejected: int
    paths: dict[str, Distribution]

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbols": self.symbols,
            "sessions": self.sessions,
            "run_s": round(self.run_seconds, 2),
            "signals": self.signals,
            "orders": self.orders,
            "rejected": self.rejected,
            "paths": {
                name: {key: round(value, 3) for key, value in _fields(d).items()}
                for name, d in self.paths.items()
            },
        }


def _fields(d: Distribution) -> dict[str, float]:
    return {
        "count": d.count,
        "mean_ms": d.mean_ms,
        "p50_ms": d.p50_ms,
        "p90_ms": d.p90_ms,
        "p99_ms": d.p99_ms,
        "max_ms": d.max_ms,
    }


async def measure(
    console: Console, symbols: int = SYMBOLS, sessions: int = SESSIONS
) -> LatencyResult:
    probe = LatencyProbe()
    async with temporary_platform(symbols, sessions) as opened:
        platform = opened.platform
        probe.attach(platform)
        label = f"latency, {symbols} symbols x {sessions} session(s)"
        seconds = await run_with_progress(platform, console, label)
        execution = platform.kernel.execution.stats
        return LatencyResult(
            symbols=symbols,
            sessions=sessions,
            run_seconds=seconds,
            signals=execution.signals,
            orders=execution.orders,
            rejected=probe.rejected(),
            paths={name: Distribution.of(s) for name, s in probe.samples().items()},
        )


async def measure_burst(
    console: Console, symbols: int = SYMBOLS, minutes: int = BURST_MINUTES
) -> LatencyResult:
    """``symbols`` signals in every one of ``minutes`` market minutes, sized in one settle.

    The platform is driven as ``Platform.run`` drives it in lockstep, except that the
    strategy is bypassed: each minute's bars reach the venue (so it has prices and fills
    the previous minute's orders) and what that caused settles, so the order path is
    measured alone, not queued behind fills; then one signal per symbol is published
    (buys on even minutes, sells of what was bought on odd ones) and the kernel settles.
    Every signal of a minute is thus held and sized in the same ``release_signals``: the
    case of a whole universe crossing at once, where commits per order add up.
    """
    probe = LatencyProbe()
    cash = {"starting_cash": Decimal(10) ** 12}
    async with temporary_platform(symbols, 1, paper=cash) as opened:
        platform = opened.platform
        probe.attach(platform)
        kernel = platform.kernel
        await platform.bus.start()
        await platform.market_data.connect()
        await platform.venue.connect()
        kernel.hold_signals(True)
        await kernel.start()
        started = time.perf_counter()
        try:
            minute = 0
            async for batch in platform.market_data.stream():
                if minute >= minutes:
                    break
                platform.clock.set_time(batch.ts)
                await platform.venue.on_batch(batch)
                await kernel.settle()  # the previous minute's fills, before this one's signals
                side = Side.BUY if minute % 2 == 0 else Side.SELL
                for bar in batch.bars:
                    signal = Signal(
                        "bench-burst", bar.instrument_id, side, batch.ts, bar.close, reason="burst"
                    )
                    event = SignalEvent.from_signal(signal, ts=batch.ts, source="bench")
                    await platform.bus.publish(topics.SIGNALS, event)
                await kernel.settle()
                minute += 1
        finally:
            seconds = time.perf_counter() - started
            await kernel.stop()
            kernel.hold_signals(False)
            await platform.bus.stop()
            await platform.venue.disconnect()
            await platform.market_data.disconnect()
        execution = kernel.execution.stats
        return LatencyResult(
            symbols=symbols,
            sessions=1,
            run_seconds=seconds,
            signals=execution.signals,
            orders=execution.orders,
            rejected=probe.rejected(),
            paths={
                name: Distribution.of(probe.samples()[name])
                for name in ("signal -> order NEW", "signal -> SUBMITTED", "signal -> ACCEPTED")
            },
        )


def path_table(result: LatencyResult) -> list[str]:
    """The percentile table of every measured path, as Markdown rows."""
    rows = [
        "| path | n | mean ms | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, d in result.paths.items():
        rows.append(
            f"| {name} | {d.count:,} | {d.mean_ms:.2f} | {d.p50_ms:.2f} | {d.p90_ms:.2f} "
            f"| {d.p99_ms:.2f} | {d.max_ms:.2f} |"
        )
    return rows


def render_burst(result: LatencyResult) -> str:
    lines = [
        f"{result.symbols} signals in each market minute, one per symbol, all held and sized "
        f"in one settle: {result.signals:,} signals, {result.orders:,} orders "
        f"({result.rejected:,} rejected by the venue), run {result.run_seconds:.1f} s.",
        "",
        *path_table(result),
    ]
    submitted = result.paths["signal -> SUBMITTED"]
    verdict = "meets" if submitted.p99_ms < BURST_TARGET_MS else "MISSES"
    lines += [
        "",
        f"Against issue 11's < {BURST_TARGET_MS:.0f} ms: signal -> SUBMITTED p99 "
        f"{submitted.p99_ms:.2f} ms: {verdict} the target.",
    ]
    return "\n".join(lines)


def render(result: LatencyResult) -> str:
    lines = [
        f"{result.symbols} symbols x {result.sessions} session(s), lockstep, default settings: "
        f"{result.signals:,} signals, {result.orders:,} orders ({result.rejected:,} rejected "
        f"by the venue), run {result.run_seconds:.1f} s.",
        "",
        *path_table(result),
    ]
    worst = result.paths["bar -> ACCEPTED"]
    verdict = "meets" if worst.max_ms < TARGET_MS else "MISSES"
    lines += [
        "",
        f"Against the roadmap's < {TARGET_MS:.0f} ms order execution latency: market data in to "
        f"an order working at the venue (bar -> ACCEPTED) p99 {worst.p99_ms:.1f} ms, "
        f"max {worst.max_ms:.1f} ms: {verdict} the target.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=SYMBOLS)
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument(
        "--burst",
        type=int,
        metavar="MINUTES",
        help="instead: one signal per symbol in each of MINUTES market minutes",
    )
    args = parser.parse_args()
    console = Console()
    if args.burst:
        burst = asyncio.run(measure_burst(console, args.symbols, args.burst))
        console.print(render_burst(burst), markup=False, highlight=False)
        return
    result = asyncio.run(measure(console, args.symbols, args.sessions))
    console.print(render(result), markup=False, highlight=False)


if __name__ == "__main__":
    main()
