"""An asyncio face on librdkafka's producer: ``send`` returns when the broker has the message.

librdkafka does its I/O on its own threads; delivery reports are served by
``poll``, which a small thread of ours calls and hands back to the event loop.
Waiting for the broker's acknowledgement is what lets the outbox mark an event as
published, and lets a service know its output is durable before it commits input.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError
from confluent_kafka import KafkaException
from confluent_kafka import Message
from confluent_kafka import Producer

from jts.bus.kafka.config import KafkaConfig
from jts.domain.errors import BusError

# librdkafka's RD_KAFKA_PARTITION_UA, ``produce``'s default: the partitioner picks by key.
_BY_KEY = -1

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Delivered:
    topic: str
    partition: int
    offset: int


class AsyncProducer:
    def __init__(self, config: KafkaConfig) -> None:
        self._config = config
        self._producer = Producer(config.producer_properties())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="kafka-producer", daemon=True)
        self._thread.start()

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: Headers = (),
        partition: int | None = None,
    ) -> Delivered:
        """Produce and wait for the acknowledgement; raises BusError when it cannot be had.

        ``produce`` is called before the first suspension point, so callers that start
        sends in order (one task after another) keep that order per partition.
        """
        return await (await self.produce(topic, key, value, headers, partition))

    async def produce(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: Headers = (),
        partition: int | None = None,
    ) -> asyncio.Future[Delivered]:
        """Hand the message to librdkafka; the future is its acknowledgement.

        Several messages produced before their futures are awaited travel together
        (one round trip to the broker instead of one each), in the order produced:
        the idempotent producer keeps that order per partition, retries included.
        """
        loop = self._loop
        if loop is None:
            raise BusError("Kafka producer is not started")
        future: asyncio.Future[Delivered] = loop.create_future()

        def delivered(error: KafkaError | None, message: Message) -> None:
            loop.call_soon_threadsafe(_settle, future, error, message)

        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=list(headers),
                    partition=_BY_KEY if partition is None else partition,
                    on_delivery=delivered,
                )
                break
            except BufferError:
                # librdkafka's queue is full: the broker is slow or away. Wait for room.
                await asyncio.sleep(0.01)
            except KafkaException as exc:
                raise BusError(f"cannot produce to {topic}: {exc}") from exc
        self.sent += 1
        return future

    async def flush(self, wait_seconds: float = 30.0) -> int:
        """Wait until every message is acknowledged or failed; returns how many are left."""
        return int(await asyncio.to_thread(self._producer.flush, wait_seconds))

    async def close(self, wait_seconds: float = 30.0) -> int:
        left = await self.flush(wait_seconds)
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None
        return left

    def reachable(self, timeout: float = 2.0) -> bool:
        """Whether a broker answered a metadata request (blocking; call from a thread)."""
        try:
            self._producer.list_topics(timeout=timeout)
        except KafkaException:
            return False
        return True

    def _serve(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(0.05)


def _settle(future: asyncio.Future[Delivered], error: KafkaError | None, message: Message) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(
            BusError(f"Kafka did not take the message for {message.topic()}: {error}")
        )
        return
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    future.set_result(Delivered(topic or "", partition or 0, offset or 0))
