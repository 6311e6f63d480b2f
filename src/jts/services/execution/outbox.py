"""The relay of the transactional outbox: committed events out to the bus, in order.

Order state and the events that announce it are written in one transaction
(``OrderRepository`` with ``outbox=``). The service then hands the same messages
to ``deliver``, which publishes them at once, so the outbox adds no latency; a
background loop records what went out in batches, and publishes whatever a crash
or a bus outage left behind: at start, and then every ``sweep_interval``.
A message can thus go out twice (a crash after the publish and before the mark);
consumers drop the second copy by ``event_id``. Nothing committed is lost.

Rows are stamped with wall time when committed, so the relay ages and purges them
on a ``WallClock`` it is given, never on the trading clock (which may be simulated
or market time in the same process), and waits only through that clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from typing import runtime_checkable

from jts.core.component import Component
from jts.domain.errors import BusError
from jts.domain.errors import JtsError
from jts.domain.events import Event
from jts.ports import MessageBus
from jts.ports import OutboxMessage
from jts.ports import OutboxRepository
from jts.ports import WallClock

log = logging.getLogger("jts.execution.outbox")

_NANOS_PER_SECOND = 1_000_000_000


@runtime_checkable
class PipelinedBus(Protocol):
    """A bus that can have several events on their way at once (the Kafka bus)."""

    async def publish_all(self, messages: Sequence[tuple[str, Event]]) -> list[BusError | None]:
        """Publish in order; for each, None when the bus took it, else why not."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxConfig:
    # How often published event ids are recorded (one UPDATE for all of them).
    mark_interval: float = 0.2
    # Recorded at once when this many wait: a run that never yields to the loop (a
    # backtest) would otherwise hold every id, and the store every row as unpublished.
    mark_batch: int = 1_000
    # How often unpublished rows are looked for, and how old they must be to count as
    # left behind rather than still on their way through ``deliver``.
    sweep_interval: float = 2.0
    sweep_age: float = 5.0
    # Published rows are kept this long for inspection, then deleted.
    retention: float = 24 * 3600.0


@dataclass(slots=True)
class OutboxStats:
    delivered: int = 0
    recovered: int = 0
    failed: int = 0
    marked: int = 0


class OutboxRelay(Component):
    def __init__(
        self,
        bus: MessageBus,
        outbox: OutboxRepository,
        config: OutboxConfig | None = None,
        name: str = "outbox-relay",
        *,
        clock: WallClock,
    ) -> None:
        super().__init__(name)
        self._bus = bus
        self._pipelined = bus if isinstance(bus, PipelinedBus) else None
        self._outbox = outbox
        self._clock = clock
        self._config = config or OutboxConfig()
        self._published: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._sweep = asyncio.Lock()
        self.stats = OutboxStats()

    async def deliver(self, messages: Sequence[OutboxMessage]) -> None:
        """Publish committed ``messages`` in order; a failure leaves the rest to the sweep.

        Over a pipelined bus (Kafka) all of them are on their way before any
        acknowledgement is awaited: an order's NEW, pending and SUBMITTED are one broker
        round trip on the way to the venue, not three. Only those up to the first refused
        are recorded as published; the sweep publishes the rest again (copies that
        consumers drop by event id).
        """
        outcomes: list[BusError | None] | None = None
        if self._pipelined is not None and len(messages) > 1:
            outcomes = await self._pipelined.publish_all([(m.topic, m.event) for m in messages])
        for index, message in enumerate(messages):
            failure: JtsError | None = None
            if outcomes is not None:
                failure = outcomes[index]
            else:
                try:
                    await self._bus.publish(message.topic, message.event)
                except JtsError as exc:
                    failure = exc
            if failure is not None:
                self.stats.failed += 1
                log.warning(
                    "outbox: %s %s not published (%s); the sweep will retry",
                    message.topic,
                    message.event.event_id,
                    failure,
                )
                return
            self._published.append(message.event.event_id)
            self.stats.delivered += 1
        if len(self._published) >= self._config.mark_batch:
            await self.flush_marks()

    async def recover(self, *, min_age: float = 0.0) -> int:
        """Publish rows nobody published (a crash, an outage); returns how many went out."""
        async with self._sweep:
            await self.flush_marks()
            cutoff = self._clock.timestamp_ns() - int(min_age * _NANOS_PER_SECOND)
            sent = 0
            while True:
                stored = [m for m in await self._outbox.pending() if m.created_ts <= cutoff]
                if not stored:
                    return sent
                for item in stored:
                    try:
                        await self._bus.publish(item.message.topic, item.message.event)
                    except JtsError as exc:
                        log.warning("outbox: recovery stopped at row %s: %s", item.seq, exc)
                        await self.flush_marks()
                        return sent
                    self._published.append(item.message.event.event_id)
                    sent += 1
                self.stats.recovered += len(stored)
                await self.flush_marks()

    async def flush_marks(self) -> None:
        if not self._published:
            return
        event_ids, self._published = self._published, []
        try:
            self.stats.marked += await self._outbox.mark_published(
                event_ids, self._clock.timestamp_ns()
            )
        except asyncio.CancelledError:
            # Stopped mid-write (the loop is cancelled at stop): the final flush marks them.
            self._published[:0] = event_ids
            raise
        except JtsError as exc:
            # Unmarked rows are published again later: a duplicate, never a loss.
            log.warning("outbox: could not record %d published events: %s", len(event_ids), exc)

    async def _on_start(self) -> None:
        recovered = await self.recover()
        if recovered:
            log.warning("outbox: published %d events left over from before", recovered)
        self._task = asyncio.create_task(self._loop(), name=f"{self.name}-loop")

    async def _on_stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush_marks()

    async def _loop(self) -> None:
        config = self._config
        since_sweep = 0.0
        since_purge = 0.0
        while True:
            await self._clock.sleep(config.mark_interval)
            await self.flush_marks()
            since_sweep += config.mark_interval
            since_purge += config.mark_interval
            if since_sweep >= config.sweep_interval:
                since_sweep = 0.0
                try:
                    await self.recover(min_age=config.sweep_age)
                except JtsError as exc:
                    # A storage outage must not end the loop: the next sweep tries again.
                    log.warning(
                        "outbox: sweep failed, retried in %.0f s: %s", config.sweep_interval, exc
                    )
            if since_purge >= 600.0:
                since_purge = 0.0
                before = self._clock.timestamp_ns() - int(config.retention * _NANOS_PER_SECOND)
                try:
                    await self._outbox.purge_published(before)
                except JtsError as exc:
                    log.warning("outbox: purge failed: %s", exc)
