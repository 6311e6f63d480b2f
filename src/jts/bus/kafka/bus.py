"""``MessageBus`` on Apache Kafka: the distributed platform's bus.

Each event is JSON (``jts.core.codec``, with its type and schema version also in
headers), keyed by the event's ``key`` (instrument or order id) so one key stays
on one partition and in order. ``publish`` returns once the broker acknowledged
the event. Each consumer group of the process is one Kafka consumer group (see
``consumer.py`` for delivery, de-duplication and dead letters). Topic names are
the logical names of ``jts.core.topics`` behind ``KafkaConfig.topic_prefix``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from jts.bus.kafka.config import HEADER_PRODUCED_NS
from jts.bus.kafka.config import HEADER_TYPE
from jts.bus.kafka.config import HEADER_VERSION
from jts.bus.kafka.config import KafkaConfig
from jts.bus.kafka.consumer import GroupConsumer
from jts.bus.kafka.consumer import GroupStats
from jts.bus.kafka.producer import AsyncProducer
from jts.bus.kafka.producer import Delivered
from jts.bus.kafka.topics import ensure_topics
from jts.bus.kafka.topics import partition_counts
from jts.core import topics as topic_names
from jts.core.codec import encode_event
from jts.core.component import Component
from jts.core.component import ComponentState
from jts.domain.errors import BusError
from jts.domain.errors import ConfigurationError
from jts.domain.events import Event
from jts.ports import Handler
from jts.ports import InlineHandler
from jts.ports import awaiting

log = logging.getLogger("jts.bus.kafka")


@dataclass(frozen=True, slots=True)
class BusHealth:
    broker_reachable: bool
    groups: dict[str, bool]

    @property
    def ready(self) -> bool:
        return self.broker_reachable and all(self.groups.values())


class KafkaMessageBus(Component):
    def __init__(
        self,
        config: KafkaConfig,
        *,
        topics: Sequence[str] = topic_names.ALL_TOPICS,
        name: str = "bus",
    ) -> None:
        super().__init__(name)
        self.config = config
        self._topics = tuple(topics)
        self._producer = AsyncProducer(config)
        self._groups: dict[str, GroupConsumer] = {}
        self.published = 0
        self._partitions: dict[str, int] = {}

    # -- MessageBus port ---------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        if self.state is not ComponentState.READY:
            raise ConfigurationError(f"subscribe to {topic!r} before the Kafka bus starts")
        if topic not in self._topics:
            raise ConfigurationError(f"unknown topic {topic!r}; known: {', '.join(self._topics)}")
        consumer = self._groups.get(group)
        if consumer is None:
            consumer = self._groups[group] = GroupConsumer(self.config, group, self._producer)
        consumer.add(topic, handler)

    def subscribe_inline(self, topic: str, handler: InlineHandler, *, group: str) -> None:
        self.subscribe(topic, awaiting(handler), group=group)

    async def publish(self, topic: str, event: Event) -> None:
        await self.send(topic, event)

    async def drain(self) -> None:
        """Wait until the broker has every event published so far.

        Other processes' consumers cannot be waited for; this process's groups handle
        in the order they receive.
        """
        left = await self._producer.flush()
        if left:
            raise BusError(f"{left} events still not acknowledged by Kafka")

    # -- beyond the port ---------------------------------------------------------------

    async def publish_all(self, messages: Sequence[tuple[str, Event]]) -> list[BusError | None]:
        """Publish ``messages`` in order, all produced before any acknowledgement is awaited.

        One round trip to the broker for the lot instead of one per event; per partition
        the order is the order given. Each entry says whether that event was taken (None)
        or why not; one not taken does not stop the others already produced.
        """
        produced: list[asyncio.Future[Delivered] | BusError] = []
        for topic, event in messages:
            try:
                produced.append(await self._produce(topic, event))
            except BusError as exc:
                produced.append(exc)
        outcomes: list[BusError | None] = []
        for item in produced:
            if isinstance(item, BusError):
                outcomes.append(item)
                continue
            try:
                await item
            except BusError as exc:
                outcomes.append(exc)
                continue
            self.published += 1
            outcomes.append(None)
        return outcomes

    def partitions(self, topic: str) -> int:
        """Partitions of ``topic`` as the broker reported them at start."""
        return self._partitions.get(topic, self.config.partitions)

    async def publish_to(self, topic: str, event: Event, partition: int) -> None:
        """Publish on one partition (a watermark goes to each of them)."""
        await self.send(topic, event, partition)

    async def send(self, topic: str, event: Event, partition: int | None = None) -> Delivered:
        """Publish and say where the event landed (partition and offset)."""
        delivered = await (await self._produce(topic, event, partition))
        self.published += 1
        return delivered

    async def _produce(
        self, topic: str, event: Event, partition: int | None = None
    ) -> asyncio.Future[Delivered]:
        if self.state not in (ComponentState.RUNNING, ComponentState.STARTING):
            raise BusError(f"Kafka bus is {self.state}: start() it before publishing to {topic!r}")
        headers = [
            (HEADER_TYPE, event.type.encode("utf-8")),
            (HEADER_VERSION, str(event.version).encode("utf-8")),
            (HEADER_PRODUCED_NS, str(time.time_ns()).encode("ascii")),
        ]
        return await self._producer.produce(
            self.config.topic(topic),
            event.key.encode("utf-8"),
            encode_event(event),
            headers,
            partition,
        )

    async def health(self) -> BusHealth:
        reachable = await asyncio.to_thread(self._producer.reachable)
        return BusHealth(reachable, {name: g.running for name, g in self._groups.items()})

    def group_stats(self) -> dict[str, GroupStats]:
        return {name: group.stats for name, group in self._groups.items()}

    async def stop_consuming(self) -> None:
        """Finish and commit the events in hand, leave the groups; publishing still works."""
        for group in self._groups.values():
            await group.stop()

    async def _on_start(self) -> None:
        await ensure_topics(self.config, self._topics)
        self._partitions = await partition_counts(self.config, self._topics)
        self._producer.start()
        for group in self._groups.values():
            await group.start()
        log.info(
            "Kafka bus on %s: groups %s",
            self.config.bootstrap_servers,
            ", ".join(self._groups) or "none",
        )

    async def _on_stop(self) -> None:
        """Consumers first (finishing and committing what they hold), then the producer."""
        await self.stop_consuming()
        left = await self._producer.close()
        if left:
            log.error("Kafka bus stopped with %d events not acknowledged", left)
