"""The backtest bus: every event handled in one defined order, with no task or queue per event.

A backtest has one producer (the replayed market) and needs two things the lane bus
cannot give it: a result that never depends on scheduling, and a per-event cost of
a function call. This bus keeps one FIFO of pending deliveries. ``publish`` appends
one delivery per subscribed group (in subscription order); the first publisher to
find the bus idle delivers the FIFO to its end, so an event published by a handler
is handled after everything published before it: breadth first, in publish order,
the same every run. Delivery semantics are the port's: every group sees every
event, a group skips an ``event_id`` it already handled, a failing handler is
counted and logged and the bus goes on.

Nothing here waits for room: a backtest's topics form a DAG driven by one bar
batch at a time, so the FIFO holds at most what one batch causes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections import deque
from dataclasses import replace

from jts.bus.inprocess import BusDeadlockError
from jts.bus.inprocess import FailedDelivery
from jts.bus.inprocess import TopicStats
from jts.core.component import Component
from jts.core.component import ComponentState
from jts.domain.errors import ConfigurationError
from jts.domain.errors import JtsError
from jts.domain.events import Event
from jts.ports.bus import Handler

_PUBLISHABLE = (ComponentState.RUNNING, ComponentState.STOPPING)


class _Group:
    __slots__ = ("handler", "name", "seen", "stats", "topic")

    def __init__(self, topic: str, name: str, handler: Handler, stats: TopicStats) -> None:
        self.topic = topic
        self.name = name
        self.handler = handler
        self.stats = stats
        self.seen: OrderedDict[str, None] = OrderedDict()


class DirectMessageBus(Component):
    """``MessageBus`` that delivers in one global publish order, inline."""

    def __init__(
        self,
        dedupe_window: int = 100_000,
        logger: logging.Logger | None = None,
        *,
        max_failed: int = 1_000,
    ) -> None:
        super().__init__("bus")
        if dedupe_window < 1 or max_failed < 1:
            raise ConfigurationError("DirectMessageBus: dedupe_window and max_failed must be >= 1")
        self._dedupe_window = dedupe_window
        self._log = logger or logging.getLogger("jts.bus")
        self._groups: dict[str, list[_Group]] = {}
        self._stats: dict[str, TopicStats] = {}
        self._fifo: deque[tuple[_Group, Event]] = deque()
        # The task delivering the FIFO, if any; others only append to it.
        self._dispatcher: asyncio.Task[object] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.failed: deque[FailedDelivery] = deque(maxlen=max_failed)

    # -- MessageBus port ---------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        groups = self._groups.setdefault(topic, [])
        if any(existing.name == group for existing in groups):
            raise ConfigurationError(f"group {group!r} is already subscribed to topic {topic!r}")
        groups.append(_Group(topic, group, handler, self._stats.setdefault(topic, TopicStats())))

    async def publish(self, topic: str, event: Event) -> None:
        if self.state not in _PUBLISHABLE:
            raise JtsError(f"bus is {self.state}: start() it before publishing to {topic!r}")
        stats = self._stats.get(topic)
        if stats is None:
            stats = self._stats[topic] = TopicStats()
        stats.published += 1
        groups = self._groups.get(topic)
        if not groups:
            return
        fifo = self._fifo
        for group in groups:
            fifo.append((group, event))
        if self._dispatcher is None:
            await self._dispatch()

    async def drain(self) -> None:
        # Only a delivering task can be the caller (settled minutes skip the lookup).
        if self._dispatcher is not None and asyncio.current_task() is self._dispatcher:
            raise BusDeadlockError("drain() called from a bus handler would wait for itself")
        while self._fifo or self._dispatcher is not None:
            if self._dispatcher is None:
                await self._dispatch()  # appended by a task while nobody was delivering
            else:
                await self._idle.wait()

    # -- lifecycle (Component) -----------------------------------------------------------

    async def _on_start(self) -> None:
        return None

    async def _on_stop(self) -> None:
        await self.drain()

    # -- monitoring ----------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, TopicStats]:
        """A snapshot of the per-topic counters."""
        return {topic: replace(counters) for topic, counters in self._stats.items()}

    # -- internals -----------------------------------------------------------------------

    async def _dispatch(self) -> None:
        self._dispatcher = asyncio.current_task()
        self._idle.clear()
        fifo = self._fifo
        try:
            while fifo:
                group, event = fifo.popleft()
                await self._deliver(group, event)
        finally:
            self._dispatcher = None
            self._idle.set()

    async def _deliver(self, group: _Group, event: Event) -> None:
        seen = group.seen
        event_id = event.event_id
        if event_id in seen:
            seen.move_to_end(event_id)
            group.stats.duplicates_skipped += 1
            return
        seen[event_id] = None
        if len(seen) > self._dedupe_window:
            seen.popitem(last=False)
        try:
            await group.handler(event)
        except Exception as exc:
            seen.pop(event_id, None)
            group.stats.handler_errors += 1
            self.failed.append(FailedDelivery(group.topic, group.name, event, repr(exc)))
            self._log.exception(
                "bus handler failed: topic=%s group=%s event_id=%s type=%s",
                group.topic,
                group.name,
                event_id,
                event.type,
                extra={"topic": group.topic, "group": group.name, "event_id": event_id},
            )
        else:
            group.stats.delivered += 1
