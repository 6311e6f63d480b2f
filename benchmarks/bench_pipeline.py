"""Bars per second through the whole embedded stack.

feed -> collector (checks, batched chDB insert) -> ``market.bars`` -> strategy engine ->
``signals`` -> order execution (SQLite: stored, then sent) -> paper venue -> reports ->
``orders.events`` / ``fills`` -> portfolio -> ``portfolio.snapshots`` -> equity curve.

In lockstep the bus settles after every market minute (as in ``jts demo``), so orders
meet the next bar exactly as they would live. Without lockstep the feed runs ahead of
the order path: bars/s then measures the market-data path under back-pressure, and
orders placed near the end of the feed never see a later bar, so trading differs.

Run alone: ``.venv/bin/python benchmarks/bench_pipeline.py [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from rich.console import Console
from rich.markdown import Markdown

from harness import run_with_progress
from harness import temporary_platform
from jts.app.platform import Platform


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    symbols: int
    sessions: int
    lockstep: bool = True
    strategy: dict[str, Any] = field(default_factory=dict)


VARIANTS = (
    Variant("whole stack, lockstep", 50, 2),
    Variant("whole stack, lockstep off", 50, 2, lockstep=False),
    # Long averages cross rarely: almost no orders, so this is the market-data path alone.
    Variant(
        "market-data path (SMA 60/300, few orders), lockstep",
        200,
        1,
        strategy={"params": {"fast": 60, "slow": 300}},
    ),
)


@dataclass(frozen=True, slots=True)
class PipelineResult:
    variant: Variant
    open_seconds: float
    run_seconds: float
    minutes: int
    bars: int
    events: int
    deliveries: int
    signals: int
    orders: int
    fills: int
    statuses: dict[str, int]

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.run_seconds

    @property
    def events_per_second(self) -> float:
        return self.events / self.run_seconds

    @property
    def deliveries_per_second(self) -> float:
        return self.deliveries / self.run_seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant.name,
            "symbols": self.variant.symbols,
            "sessions": self.variant.sessions,
            "lockstep": self.variant.lockstep,
            "open_s": round(self.open_seconds, 2),
            "run_s": round(self.run_seconds, 2),
            "market_minutes": self.minutes,
            "bars": self.bars,
            "bars_per_s": round(self.bars_per_second),
            "events_published": self.events,
            "events_per_s": round(self.events_per_second),
            "deliveries_per_s": round(self.deliveries_per_second),
            "signals": self.signals,
            "orders": self.orders,
            "fills": self.fills,
            "order_statuses": self.statuses,
        }


async def _order_statuses(platform: Platform) -> dict[str, int]:
    orders = await platform.sql.orders.list()
    return dict(sorted(Counter(str(order.status) for order in orders).items()))


async def measure(variant: Variant, console: Console) -> PipelineResult:
    sections = {"strategy": variant.strategy} if variant.strategy else {}
    async with temporary_platform(variant.symbols, variant.sessions, **sections) as opened:
        platform = opened.platform
        seconds = await run_with_progress(
            platform, console, variant.name, lockstep=variant.lockstep
        )
        kernel = platform.kernel
        stats = platform.bus.stats.values()
        return PipelineResult(
            variant=variant,
            open_seconds=opened.open_seconds,
            run_seconds=seconds,
            minutes=platform.steps,
            bars=kernel.collector.stats.bars,
            events=sum(topic.published for topic in stats),
            deliveries=sum(topic.delivered for topic in stats),
            signals=kernel.strategy_engine.stats.signals,
            orders=kernel.execution.stats.orders,
            fills=kernel.execution.stats.fills,
            statuses=await _order_statuses(platform),
        )


async def measure_all(
    console: Console, variants: tuple[Variant, ...] = VARIANTS
) -> list[PipelineResult]:
    results = []
    for variant in variants:
        result = await measure(variant, console)
        console.print(
            f"  {variant.name}: {result.bars:,} bars in {result.run_seconds:.1f} s = "
            f"[bold]{result.bars_per_second:,.0f} bars/s[/]"
        )
        results.append(result)
    return results


def render(results: list[PipelineResult]) -> str:
    lines = [
        "| variant | symbols x sessions | bars | run s | **bars/s** | market min/s "
        "| events/s | signals | orders | fills | open s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        v = r.variant
        lines.append(
            f"| {v.name} | {v.symbols} x {v.sessions} | {r.bars:,} | {r.run_seconds:.1f} "
            f"| **{r.bars_per_second:,.0f}** | {r.minutes / r.run_seconds:,.1f} "
            f"| {r.events_per_second:,.0f} | {r.signals:,} | {r.orders:,} | {r.fills:,} "
            f"| {r.open_seconds:.1f} |"
        )
    lines.append("")
    lines.append("Final order states per variant:")
    lines.append("")
    for r in results:
        states = ", ".join(f"{name} {count:,}" for name, count in r.statuses.items())
        lines.append(f"- {r.variant.name}: {states or 'no orders'}")
    return "\n".join(lines)


def _profile(variant: Variant, console: Console) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    result = asyncio.run(measure(variant, console))
    profiler.disable()
    console.print(f"{result.bars_per_second:,.0f} bars/s under the profiler (slower than real)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats("jts/", 30)
    console.print(out.getvalue(), markup=False, highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, help="one custom variant: this many symbols")
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--no-lockstep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the (first) variant")
    args = parser.parse_args()
    console = Console()
    variants = VARIANTS
    if args.symbols:
        lockstep = not args.no_lockstep
        name = f"{args.symbols} symbols, lockstep {'on' if lockstep else 'off'}"
        variants = (Variant(name, args.symbols, args.sessions, lockstep=lockstep),)
    if args.profile:
        _profile(variants[0], console)
        return
    console.print(Markdown(render(asyncio.run(measure_all(console, variants)))))


if __name__ == "__main__":
    main()
