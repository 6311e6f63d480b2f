"""Pacing market time over Kafka: the next minute only once the last is settled everywhere.

In process, ``TradingKernel.settle`` knows when a minute's consequences are done (the
bus drains). Over Kafka the services cannot be drained from outside, so a feed in
lockstep (a deterministic replay) closes each minute with a mark on every
``market.bars`` partition and waits here until order execution (the minute's signals
sized and sent) and the portfolio (its bars and fills booked) publish ``settled`` marks
for it on ``control.marks``. Live feeds do not wait: their marks only release signals.
"""

from __future__ import annotations

import asyncio
import logging

from jts.core import topics
from jts.core.watermarks import STAGE_BARS
from jts.core.watermarks import STAGE_BOOKS
from jts.core.watermarks import STAGE_ORDERS
from jts.core.watermarks import Watermarks
from jts.core.watermarks import broadcast
from jts.domain.events import Event
from jts.domain.events import MinuteMark
from jts.ports import MessageBus

log = logging.getLogger("jts.app.lockstep")

SETTLING_STAGES = (STAGE_ORDERS, STAGE_BOOKS)


async def close_minute(bus: MessageBus, minute_ts: int, source: str) -> None:
    """After a minute's bars are published: mark it closed on every bars partition."""
    await broadcast(bus, topics.MARKET_BARS, MinuteMark.of(STAGE_BARS, minute_ts, source=source))


class SettledMarks:
    """Waits for ``settled`` marks; subscribe before the bus starts."""

    def __init__(self, bus: MessageBus, group: str, *, warn_after: float = 30.0) -> None:
        self._marks = Watermarks(SETTLING_STAGES)
        self._changed = asyncio.Event()
        self._warn_after = warn_after
        bus.subscribe(topics.MARKS, self._handle, group=group)

    @property
    def minute(self) -> int | None:
        return self._marks.minute

    async def _handle(self, event: Event) -> None:
        if isinstance(event, MinuteMark) and self._marks.observe(event):
            self._changed.set()

    async def wait(self, minute_ts: int) -> None:
        """Until every settling stage has marked ``minute_ts`` (or later) settled."""
        waited = 0.0
        while self.minute is None or self.minute < minute_ts:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=self._warn_after)
            except TimeoutError:
                waited += self._warn_after
                log.warning(
                    "minute %d not settled after %.0f s (settled through %s): is every service up?",
                    minute_ts,
                    waited,
                    self.minute,
                )
