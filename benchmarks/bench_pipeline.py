"""Bars per second through the whole embedded stack.

feed -> collector (checks, batched chDB insert) -> market.bars -> strategy engine ->
signals -> order execution (SQLite) -> orders.pending -> paper venue -> reports ->
orders.events / fills -> portfolio, in lockstep (the bus settles after every minute).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from rich.progress import Progress

from harness import temporary_platform


async def measure(
    symbols: int, sessions: int, fast: int = 5, slow: int = 20
) -> dict[str, float | str]:
    async with temporary_platform(symbols, sessions, fast=fast, slow=slow) as platform:
        total = platform.source.planned_minutes or 0
        with Progress(transient=True) as progress:
            task = progress.add_task(f"{symbols} symbols x {sessions} sessions", total=total)
            started = time.perf_counter()
            await platform.run(on_step=lambda _batch: progress.advance(task))
            elapsed = time.perf_counter() - started
        kernel = platform.kernel
        bars = kernel.collector.stats.bars
        return {
            "strategy": f"SMA {fast}/{slow}",
            "symbols": len(platform.instruments),
            "sessions": sessions,
            "bars": bars,
            "signals": kernel.strategy_engine.stats.signals,
            "orders": kernel.execution.stats.orders,
            "fills": kernel.execution.stats.fills,
            "seconds": round(elapsed, 2),
            "bars_per_second": round(bars / elapsed),
            "minutes_per_second": round(platform.steps / elapsed, 1),
        }


async def main() -> list[dict[str, float | str]]:
    # The demo's universe and strategy (trades often), then a wide universe whose slow
    # crossover trades rarely, which shows what the market-data path alone sustains.
    return [await measure(0, 3), await measure(200, 1, fast=60, slow=300)]


if __name__ == "__main__":
    results = asyncio.run(main())
    json.dump(results, sys.stdout, indent=2)
    print()
