"""Watermarks: knowing that a minute is complete when events arrive over many partitions.

A stage (the collector, a strategy engine, order execution) marks a minute closed on
every partition of its output topic once it published that minute's events there
(``MinuteMark``). A consumer holds the minute's work until it has a mark from every
lane: ``Watermark`` keeps, per (origin, partition), the latest minute marked, and the
minute complete everywhere is the least of them. Taking the maximum makes marks
idempotent: a copy, a redelivery after a restart or a late stale mark changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from jts.domain.events import MinuteMark
from jts.ports import MessageBus
from jts.ports import PartitionedBus

# The stages that mark minutes, in pipeline order.
STAGE_BARS = "collector"  # on market.bars, after a minute's bars
STAGE_SIGNALS = "strategy-engine"  # on signals, once a bars partition's minute is handled
STAGE_VENUE = "paper-venue"  # on signals, once a remote paper venue matched a minute
STAGE_ORDERS = "order-execution"  # on fills and control.marks, once the minute is sized
STAGE_BOOKS = "portfolio"  # on control.marks, once the minute's bars and fills are booked


class Watermark:
    """The latest minute that every lane of one stage has marked closed."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._latest: dict[tuple[int, int], int] = {}
        self._lanes = 0
        self.minute: int | None = None

    def observe(self, mark: MinuteMark) -> bool:
        """Take ``mark`` (of this stage); whether the complete minute moved forward."""
        if mark.stage != self.stage:
            return False
        lane = (mark.origin, mark.partition)
        if mark.minute_ts <= self._latest.get(lane, -1):
            return False
        self._latest[lane] = mark.minute_ts
        # Every mark says how many lanes there are; the latest says it for a topic resized.
        self._lanes = mark.origins * mark.partitions
        if len(self._latest) < self._lanes:
            return False
        minute = min(self._latest.values())
        if self.minute is not None and minute <= self.minute:
            return False
        self.minute = minute
        return True


class Watermarks:
    """Several stages at once (portfolio: bars and fills): complete where all are."""

    def __init__(self, stages: Iterable[str]) -> None:
        self._marks = {stage: Watermark(stage) for stage in stages}
        self.minute: int | None = None

    def observe(self, mark: MinuteMark) -> bool:
        tracked = self._marks.get(mark.stage)
        if tracked is None or not tracked.observe(mark):
            return False
        minutes = [w.minute for w in self._marks.values()]
        if any(m is None for m in minutes):
            return False
        minute = min(m for m in minutes if m is not None)
        if self.minute is not None and minute <= self.minute:
            return False
        self.minute = minute
        return True


async def broadcast(bus: MessageBus, topic: str, mark: MinuteMark) -> None:
    """Publish ``mark`` on every partition of ``topic``; a bus without partitions gets one."""
    if not isinstance(bus, PartitionedBus):
        await bus.publish(topic, mark.on(0, 1))
        return
    count = bus.partitions(topic)
    # One round trip for all: the order between partitions means nothing.
    await asyncio.gather(*(bus.publish_to(topic, mark.on(p, count), p) for p in range(count)))
