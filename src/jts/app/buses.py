"""The bus a process uses, from settings, and the market clock that rides on it."""

from __future__ import annotations

from collections.abc import Awaitable

from jts.app.settings import Settings
from jts.bus.inprocess import InProcessMessageBus
from jts.bus.kafka import KafkaConfig
from jts.bus.kafka import KafkaMessageBus
from jts.core.clocks import MarketClock
from jts.domain.errors import ConfigurationError
from jts.domain.events import Event
from jts.ports import Handler
from jts.ports import InlineHandler
from jts.ports import MessageBus
from jts.ports import PartitionedBus


def kafka_config(settings: Settings) -> KafkaConfig:
    kafka = settings.bus.kafka
    return KafkaConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=kafka.client_id,
        topic_prefix=kafka.topic_prefix,
        partitions=kafka.partitions,
        replication_factor=kafka.replication_factor,
        dedupe_window=settings.bus.dedupe_window,
    )


def kafka_bus(settings: Settings) -> KafkaMessageBus:
    if settings.bus.kind != "kafka":
        raise ConfigurationError(
            "jts serve runs each service as its own process over Kafka: set bus.kind = 'kafka' "
            "(JTS_BUS__KIND=kafka) and bus.kafka.bootstrap_servers"
        )
    return KafkaMessageBus(kafka_config(settings))


def inprocess_bus(settings: Settings) -> InProcessMessageBus:
    return InProcessMessageBus(
        queue_size=settings.bus.queue_size,
        lanes=settings.bus.lanes,
        dedupe_window=settings.bus.dedupe_window,
    )


class MarketTimeBus:
    """Moves a ``MarketClock`` to each delivered event's time before its handler runs.

    A service process fed by recorded or simulated market data has no wall clock to
    trust; this keeps its orders, signals and snapshots stamped in market time.
    """

    def __init__(self, bus: MessageBus, clock: MarketClock) -> None:
        self.inner = bus
        self.clock = clock

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def publish(self, topic: str, event: Event) -> None:
        await self.inner.publish(topic, event)

    def partitions(self, topic: str) -> int:
        """The inner bus's partitions (one for a bus without them): watermarks address each."""
        inner = self.inner
        return inner.partitions(topic) if isinstance(inner, PartitionedBus) else 1

    async def publish_to(self, topic: str, event: Event, partition: int) -> None:
        inner = self.inner
        if isinstance(inner, PartitionedBus):
            await inner.publish_to(topic, event, partition)
        else:
            await inner.publish(topic, event)

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        clock = self.clock

        async def observed(event: Event) -> None:
            clock.observe(event.ts)
            await handler(event)

        self.inner.subscribe(topic, observed, group=group)

    def subscribe_inline(self, topic: str, handler: InlineHandler, *, group: str) -> None:
        clock = self.clock

        def observed(event: Event) -> Awaitable[None] | None:
            clock.observe(event.ts)
            return handler(event)

        self.inner.subscribe_inline(topic, observed, group=group)

    async def drain(self) -> None:
        await self.inner.drain()
