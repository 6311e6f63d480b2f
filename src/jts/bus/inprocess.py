"""The embedded message bus: asyncio queues with Kafka-like delivery semantics.

Each ``(topic, group)`` subscription is a consumer group that sees every event of its
topic. Inside a group, events are spread over ``lanes`` worker tasks by a stable hash
(CRC-32) of ``event.key``: one key always lands on one lane, so it is handled in publish
order, while other keys proceed in parallel (Kafka's partitions, in memory).

Lanes are bounded queues, so ``publish`` waits when a consumer falls behind instead of
growing memory. Consumers skip an ``event_id`` they already handled (at-least-once
delivery upstream), remembering only the last ``dedupe_window`` ids per group.

Publishing before ``start()`` (or after ``stop()``) raises ``JtsError``: nothing could
consume a buffered event, and a full lane would block the caller forever.

Topics in JTS form a DAG (bars -> signals -> orders -> fills -> snapshots), so no handler
waits on its own queue. A handler that would block on a full lane whose consumer is
(transitively) waiting on the handler itself gets ``BusDeadlockError`` instead of hanging,
which the worker records as a handler error; ``drain()`` therefore always returns.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import OrderedDict
from collections import deque
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from typing import TypeAlias

from jts.core.component import Component
from jts.core.component import ComponentState
from jts.domain.errors import ConfigurationError
from jts.domain.errors import JtsError
from jts.domain.events import Event
from jts.ports.bus import Handler
from jts.ports.bus import InlineHandler
from jts.ports.bus import awaiting

_Task: TypeAlias = asyncio.Task[Any]
_PUBLISHABLE = (ComponentState.RUNNING, ComponentState.STOPPING)


class BusDeadlockError(JtsError):
    """A publish would wait on a queue that only the publishing handler can empty."""


@dataclass(slots=True)
class TopicStats:
    """Counters for one topic; ``delivered`` counts successful handler calls over all groups."""

    published: int = 0
    delivered: int = 0
    duplicates_skipped: int = 0
    handler_errors: int = 0


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    topic: str
    group: str
    event: Event
    error: str


class _Lane:
    """One bounded queue and the worker task that empties it."""

    __slots__ = ("queue", "worker")

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=queue_size)
        self.worker: _Task | None = None


class _Group:
    """A consumer group: one handler, its lanes and its memory of handled event ids."""

    __slots__ = ("handler", "lanes", "name", "seen", "topic")

    def __init__(self, topic: str, name: str, handler: Handler, lanes: int, queue_size: int):
        self.topic = topic
        self.name = name
        self.handler = handler
        self.lanes = [_Lane(queue_size) for _ in range(lanes)]
        self.seen: OrderedDict[str, None] = OrderedDict()


class InProcessMessageBus(Component):
    """``MessageBus`` for a single process: per-key order, back-pressure, idempotent groups."""

    def __init__(
        self,
        queue_size: int = 1024,
        lanes: int = 4,
        dedupe_window: int = 100_000,
        logger: logging.Logger | None = None,
        *,
        max_failed: int = 1_000,
    ) -> None:
        super().__init__("bus")
        if queue_size < 1 or lanes < 1 or dedupe_window < 1 or max_failed < 1:
            raise ConfigurationError(
                "InProcessMessageBus: queue_size, lanes, dedupe_window and max_failed must be >= 1"
            )
        self._queue_size = queue_size
        self._lane_count = lanes
        self._dedupe_window = dedupe_window
        self._log = logger or logging.getLogger("jts.bus")
        self._groups: dict[str, list[_Group]] = {}
        self._stats: dict[str, TopicStats] = {}
        self.failed: deque[FailedDelivery] = deque(maxlen=max_failed)
        # Deliveries accepted by publish (even if still waiting for queue room) and not yet handled.
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Which lane each task is currently blocked on in publish; edges of the wait-for graph.
        self._blocked_on: dict[_Task, _Lane] = {}
        self._worker_tasks: set[_Task] = set()

    # -- MessageBus port ---------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        groups = self._groups.setdefault(topic, [])
        if any(existing.name == group for existing in groups):
            raise ConfigurationError(f"group {group!r} is already subscribed to topic {topic!r}")
        consumer = _Group(topic, group, handler, self._lane_count, self._queue_size)
        groups.append(consumer)
        self._stats.setdefault(topic, TopicStats())
        if self.state in _PUBLISHABLE:
            self._start_workers(consumer)

    def subscribe_inline(self, topic: str, handler: InlineHandler, *, group: str) -> None:
        self.subscribe(topic, awaiting(handler), group=group)

    async def publish(self, topic: str, event: Event) -> None:
        if self.state not in _PUBLISHABLE:
            raise JtsError(f"bus is {self.state}: start() it before publishing to {topic!r}")
        self._stats.setdefault(topic, TopicStats()).published += 1
        groups = self._groups.get(topic)
        if not groups:
            return
        lane_index = zlib.crc32(event.key.encode("utf-8")) % self._lane_count
        for consumer in tuple(groups):
            await self._put(consumer, consumer.lanes[lane_index], event)

    async def drain(self) -> None:
        if asyncio.current_task() in self._worker_tasks:
            raise BusDeadlockError("drain() called from a bus handler would wait for itself")
        # Handlers may publish while we wait; the counter covers them, so loop until it is zero.
        while self._pending:
            await self._idle.wait()

    # -- lifecycle (Component) -----------------------------------------------------------

    async def _on_start(self) -> None:
        for groups in self._groups.values():
            for consumer in groups:
                self._start_workers(consumer)

    async def _on_stop(self) -> None:
        try:
            await self.drain()
        finally:
            tasks = list(self._worker_tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._worker_tasks.clear()
            for groups in self._groups.values():
                for consumer in groups:
                    for lane in consumer.lanes:
                        lane.worker = None

    # -- monitoring ----------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, TopicStats]:
        """A snapshot of the per-topic counters."""
        return {topic: replace(counters) for topic, counters in self._stats.items()}

    def queue_depths(self, topic: str) -> dict[str, list[int]]:
        """Events waiting in each lane, per group of ``topic``."""
        return {
            consumer.name: [lane.queue.qsize() for lane in consumer.lanes]
            for consumer in self._groups.get(topic, ())
        }

    # -- internals -----------------------------------------------------------------------

    def _start_workers(self, consumer: _Group) -> None:
        for index, lane in enumerate(consumer.lanes):
            if lane.worker is None:
                task = asyncio.create_task(
                    self._work(consumer, lane),
                    name=f"bus:{consumer.topic}:{consumer.name}:{index}",
                )
                lane.worker = task
                self._worker_tasks.add(task)

    async def _put(self, consumer: _Group, lane: _Lane, event: Event) -> None:
        self._pending += 1
        self._idle.clear()
        if not lane.queue.full():
            lane.queue.put_nowait(event)
            return
        current = asyncio.current_task()
        try:
            self._check_deadlock(current, lane, consumer)
            if current is not None:
                self._blocked_on[current] = lane
            await lane.queue.put(event)
        except BaseException:
            self._done()
            raise
        finally:
            if current is not None:
                self._blocked_on.pop(current, None)

    def _check_deadlock(self, current: _Task | None, lane: _Lane, group: _Group) -> None:
        """Follow lane -> its worker -> the lane that worker waits on, looking for ourselves."""
        target: _Lane | None = lane
        visited: set[int] = set()
        while target is not None and id(target) not in visited:
            visited.add(id(target))
            worker = target.worker
            if worker is None:
                return
            if worker is current:
                raise BusDeadlockError(
                    f"publish to {group.topic!r} (group {group.name!r}) would wait on a full queue"
                    " that only the publishing handler can empty; topics must form a DAG"
                )
            target = self._blocked_on.get(worker)

    async def _work(self, consumer: _Group, lane: _Lane) -> None:
        while True:
            event = await lane.queue.get()
            try:
                await self._deliver(consumer, event)
            finally:
                lane.queue.task_done()
                self._done()

    async def _deliver(self, consumer: _Group, event: Event) -> None:
        stats = self._stats[consumer.topic]
        seen = consumer.seen
        if event.event_id in seen:
            seen.move_to_end(event.event_id)
            stats.duplicates_skipped += 1
            return
        # Marked before the call so a copy racing on another lane is skipped; unmarked on
        # failure so a redelivery gets another chance.
        seen[event.event_id] = None
        if len(seen) > self._dedupe_window:
            seen.popitem(last=False)
        try:
            await consumer.handler(event)
        except Exception as exc:
            seen.pop(event.event_id, None)
            stats.handler_errors += 1
            self.failed.append(FailedDelivery(consumer.topic, consumer.name, event, repr(exc)))
            self._log.exception(
                "bus handler failed: topic=%s group=%s event_id=%s type=%s",
                consumer.topic,
                consumer.name,
                event.event_id,
                event.type,
                extra={"topic": consumer.topic, "group": consumer.name, "event_id": event.event_id},
            )
        else:
            stats.delivered += 1

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()
