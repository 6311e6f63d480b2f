"""The backtest bus: every event handled in one defined order, with no task or queue per event.

A backtest has one producer (the replayed market) and needs two things the lane bus
cannot give it: a result that never depends on scheduling, and a per-event cost of
a function call. This bus keeps one FIFO of pending deliveries. ``publish`` appends
the event once, with the groups subscribed to its topic; the first publisher to find
the bus idle delivers the FIFO to its end, each event to its groups in subscription
order, so an event published by a handler is handled after everything published
before it: breadth first, in publish order, the same every run. Delivery semantics
are the port's: every group sees every event, a group skips an ``event_id`` it
already handled (among the topic's last ``dedupe_window`` ids), a failing handler
is counted and logged, its group may take a copy again, and the bus goes on.
An inline handler (``subscribe_inline``) that finishes without awaiting costs no
coroutine: a bar's mark and most bars' strategy runs are plain calls.

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
from jts.ports.bus import InlineHandler

_PUBLISHABLE = (ComponentState.RUNNING, ComponentState.STOPPING)
_DELIVERING = object()


class _Group:
    __slots__ = ("handler", "name")

    def __init__(self, name: str, handler: InlineHandler) -> None:
        self.name = name
        # Called, and what it hands back awaited: a coroutine (a plain ``Handler``), or
        # None from an inline handler that finished without awaiting (no coroutine made).
        self.handler = handler


class _Topic:
    """A topic's groups and its one dedupe window, shared by the groups.

    Every group of a topic is handed every event of it in the same order, so one
    window per topic tells each group what it handled: ``seen`` maps an event id to
    the groups that took it (all of them but those whose handler failed on it, or
    that subscribed after it went by). The common case, an id every group took, is
    one lookup per event, not one window insert and eviction per group.
    """

    __slots__ = ("groups", "name", "seen", "stats")

    def __init__(self, name: str, stats: TopicStats) -> None:
        self.name = name
        self.stats = stats
        # Replaced, never mutated, on subscribe: a queued delivery keeps the groups
        # subscribed when it was published, and ``seen`` compares them by identity.
        self.groups: tuple[_Group, ...] = ()
        self.seen: OrderedDict[str, tuple[_Group, ...]] = OrderedDict()

    def together(self, took: tuple[_Group, ...], more: tuple[_Group, ...]) -> tuple[_Group, ...]:
        """The groups that took an event so far; ``groups`` itself once all of them have."""
        merged = tuple(group for group in self.groups if group in took or group in more)
        return self.groups if len(merged) == len(self.groups) else merged


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
        self._topics: dict[str, _Topic] = {}
        self._stats: dict[str, TopicStats] = {}
        # One entry per published event: its topic, the groups to hand it to, the event.
        self._fifo: deque[tuple[_Topic, tuple[_Group, ...], Event]] = deque()
        # The task delivering the FIFO, if any; others only append to it. ``_DELIVERING``
        # until the delivery first awaits a handler: only then can another task (or the
        # handler, through ``drain``) run, so only then is the task looked up.
        self._dispatcher: asyncio.Task[object] | object | None = None
        # Drains waiting for another task's delivery to end (rare: made only then).
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.failed: deque[FailedDelivery] = deque(maxlen=max_failed)

    # -- MessageBus port ---------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        self._add(topic, _Group(group, handler))

    def subscribe_inline(self, topic: str, handler: InlineHandler, *, group: str) -> None:
        self._add(topic, _Group(group, handler))

    async def publish(self, topic: str, event: Event) -> None:
        if self.state not in _PUBLISHABLE:
            raise JtsError(f"bus is {self.state}: start() it before publishing to {topic!r}")
        state = self._topics.get(topic) or self._topic(topic)
        state.stats.published += 1
        if not state.groups:
            return
        self._fifo.append((state, state.groups, event))
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
                waiter = asyncio.get_running_loop().create_future()
                self._idle_waiters.append(waiter)
                await waiter

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

    def _add(self, topic: str, group: _Group) -> None:
        state = self._topic(topic)
        if any(existing.name == group.name for existing in state.groups):
            raise ConfigurationError(
                f"group {group.name!r} is already subscribed to topic {topic!r}"
            )
        state.groups = (*state.groups, group)

    def _topic(self, name: str) -> _Topic:
        state = self._topics.get(name)
        if state is None:
            stats = self._stats.setdefault(name, TopicStats())
            state = self._topics[name] = _Topic(name, stats)
        return state

    async def _dispatch(self) -> None:
        self._dispatcher = _DELIVERING
        fifo = self._fifo
        window = self._dedupe_window
        try:
            while fifo:
                topic, groups, event = fifo.popleft()
                seen = topic.seen
                event_id = event.event_id
                took = seen.get(event_id)
                if took is None:
                    # New: every group takes it (the common case, one window insert).
                    seen[event_id] = groups
                    if len(seen) > window:
                        seen.popitem(last=False)
                    todo = groups
                else:
                    todo = _still_to_take(topic, groups, event_id, took)
                for index, group in enumerate(todo):
                    try:
                        rest = group.handler(event)
                        if rest is not None:
                            if self._dispatcher is _DELIVERING:
                                self._dispatcher = asyncio.current_task()
                            await rest
                    except Exception as exc:
                        self._failed(topic, group, event, exc)
                    except BaseException:
                        # Cancelled mid-event: the groups not reached yet still get it.
                        self._interrupted(topic, todo, index, event)
                        raise
                    else:
                        topic.stats.delivered += 1
        finally:
            self._dispatcher = None
            if self._idle_waiters:
                self._wake_drains()

    def _wake_drains(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _unsee(self, topic: _Topic, event_id: str, groups: tuple[_Group, ...]) -> None:
        """``groups`` have not handled ``event_id`` after all: a copy is theirs to take."""
        took = topic.seen.get(event_id)
        if took is not None:
            topic.seen[event_id] = tuple(group for group in took if group not in groups)

    def _interrupted(
        self, topic: _Topic, todo: tuple[_Group, ...], index: int, event: Event
    ) -> None:
        rest = todo[index + 1 :]
        if rest:
            self._unsee(topic, event.event_id, rest)
            self._fifo.appendleft((topic, rest, event))

    def _failed(self, topic: _Topic, group: _Group, event: Event, exc: Exception) -> None:
        event_id = event.event_id
        self._unsee(topic, event_id, (group,))
        topic.stats.handler_errors += 1
        self.failed.append(FailedDelivery(topic.name, group.name, event, repr(exc)))
        self._log.exception(
            "bus handler failed: topic=%s group=%s event_id=%s type=%s",
            topic.name,
            group.name,
            event_id,
            event.type,
            extra={"topic": topic.name, "group": group.name, "event_id": event_id},
        )


def _still_to_take(
    topic: _Topic, groups: tuple[_Group, ...], event_id: str, took: tuple[_Group, ...]
) -> tuple[_Group, ...]:
    """The groups of a copy of ``event_id`` that have not handled it; the window updated."""
    topic.seen.move_to_end(event_id)
    if took is groups:
        topic.stats.duplicates_skipped += len(groups)
        return ()
    # Some groups took it, others not (a handler failed, or they came later).
    todo = tuple(group for group in groups if group not in took)
    topic.stats.duplicates_skipped += len(groups) - len(todo)
    topic.seen[event_id] = topic.together(took, todo)
    return todo
