"""Order execution over Kafka: release a minute's held signals on the strategy engines' marks.

Services in separate processes cannot ask each other whether a minute's signals are all
in. Each strategy engine marks a minute on every ``signals`` partition once it handled
that minute's bars of one ``market.bars`` partition; when every (bars partition, signals
partition) pair has marked a minute, no signal of it can still come, so the held ones
are sized in the defined order, as ``settle`` does in process. Then this service says
so twice: a mark on every ``fills`` partition (its fills so far are out, for the
portfolio) and a ``settled`` mark on ``control.marks`` (for a feed running in lockstep).
A venue in a process of its own (the paper venue) matches bars from the bus: then a
minute also waits for the venue's mark, and its journal is read up to date first, so
the minute is sized on the same books as in process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Callable

from jts.core import topics
from jts.core.watermarks import STAGE_ORDERS
from jts.core.watermarks import STAGE_SIGNALS
from jts.core.watermarks import STAGE_VENUE
from jts.core.watermarks import Watermarks
from jts.core.watermarks import broadcast
from jts.domain.events import MinuteMark
from jts.ports import CatchesUp
from jts.ports import ExecutionClient
from jts.ports import MessageBus

log = logging.getLogger("jts.execution.marks")

Release = Callable[[int], Awaitable[int]]


class SignalMarks:
    def __init__(
        self,
        release: Release,
        bus: MessageBus,
        name: str,
        *,
        venue: ExecutionClient | None = None,
    ) -> None:
        """``venue``: a venue in its own process that matches bars from the bus and marks
        them (the paper venue): a minute waits for its mark too, and for its reports."""
        self._release = release
        self._bus = bus
        self._name = name
        stages = (STAGE_SIGNALS, STAGE_VENUE) if venue is not None else (STAGE_SIGNALS,)
        self._signals = Watermarks(stages)
        self._venue = venue
        self.settled: int | None = None

    async def observe(self, mark: MinuteMark) -> None:
        if not self._signals.observe(mark):
            return  # a copy, a stale mark, or lanes still open
        minute = self._signals.minute
        assert minute is not None
        if isinstance(self._venue, CatchesUp):
            # Its fills of this minute are in its journal: applied before any sizing.
            await self._venue.catch_up()
        released = await self._release(minute)
        log.debug("minute %d complete: %d signal(s) released", minute, released)
        settled = MinuteMark.of(STAGE_ORDERS, minute, source=self._name)
        await broadcast(self._bus, topics.FILLS, settled)
        await self._bus.publish(topics.MARKS, settled)
        self.settled = minute
