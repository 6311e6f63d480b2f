"""In-process latency from a strategy's signal to the venue's answer and to the fill.

Extra consumer groups on ``signals``, ``orders.events`` and ``fills`` stamp each event
with ``perf_counter_ns`` when it is delivered, matched by client order id (derived from
the signal id). Two numbers per order:

- signal -> ACCEPTED: the software path (sizing, NEW stored, ``orders.pending``,
  SUBMITTED stored, paper venue checks, ACCEPTED stored and published), fsync included;
- signal -> fill: also waits for the NEXT bar (a fill never uses the signal's own bar),
  so in a flat-out lockstep run it includes the rest of that minute's processing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from rich.progress import Progress

from harness import temporary_platform
from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import OrderStatusChanged
from jts.domain.events import SignalEvent
from jts.services.execution import client_order_id_for


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples_ns: list[int]) -> dict[str, float]:
    ms = [s / 1e6 for s in samples_ns]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
    }


async def measure(sessions: int = 3) -> dict[str, dict[str, float]]:
    signal_at: dict[str, int] = {}
    accepted: list[int] = []
    filled: list[int] = []

    async def on_signal(event: Event) -> None:
        if isinstance(event, SignalEvent):
            signal_at[client_order_id_for(event.signal_id)] = time.perf_counter_ns()

    async def on_status(event: Event) -> None:
        if isinstance(event, OrderStatusChanged) and event.status is OrderStatus.ACCEPTED:
            started = signal_at.get(event.client_order_id)
            if started is not None:
                accepted.append(time.perf_counter_ns() - started)

    first_fill: set[str] = set()

    async def on_fill(event: Event) -> None:
        if isinstance(event, FillEvent) and event.client_order_id not in first_fill:
            first_fill.add(event.client_order_id)
            started = signal_at.get(event.client_order_id)
            if started is not None:
                filled.append(time.perf_counter_ns() - started)

    async with temporary_platform(0, sessions) as platform:
        platform.bus.subscribe(topics.SIGNALS, on_signal, group="bench-signals")
        platform.bus.subscribe(topics.ORDERS_EVENTS, on_status, group="bench-orders")
        platform.bus.subscribe(topics.FILLS, on_fill, group="bench-fills")
        with Progress(transient=True) as progress:
            task = progress.add_task("latency run", total=platform.source.planned_minutes)
            await platform.run(on_step=lambda _batch: progress.advance(task))
    return {"signal_to_accepted": summary(accepted), "signal_to_first_fill": summary(filled)}


if __name__ == "__main__":
    json.dump(asyncio.run(measure()), sys.stdout, indent=2)
    print()
