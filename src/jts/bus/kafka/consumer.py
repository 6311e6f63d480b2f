"""One Kafka consumer group of a process: decode, de-duplicate, handle, then store the offset.

Messages are fetched in batches on a thread of their own (librdkafka's ``consume``
blocks) and handled on the event loop: the keys of a batch concurrently, the
messages of one key strictly in order, so each key keeps its order. An offset is
stored only after every handler of the group finished with the message and with
every message before it in its partition; librdkafka commits stored offsets every
second, and this class commits them synchronously before a rebalance and at shutdown.

What a handler cannot take:
- a message that is not a known event at a known version, or an event a handler
  refuses as invalid (``DataError``, ``DomainError``), goes to the topic's
  dead-letter topic with the reason in a header, and the group moves on;
- an outage (storage, venue, bus: ``StorageError``, ``BrokerError``, ``BusError``,
  ``OSError``) is retried with back-off until it ends, holding the partition, since
  skipping an order is worse than waiting;
- anything else is retried ``handler_attempts`` times, then dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field

from confluent_kafka import Consumer
from confluent_kafka import KafkaError
from confluent_kafka import KafkaException
from confluent_kafka import Message
from confluent_kafka import TopicPartition

from jts.bus.kafka.config import HEADER_DLQ_GROUP
from jts.bus.kafka.config import HEADER_DLQ_REASON
from jts.bus.kafka.config import HEADER_DLQ_SOURCE
from jts.bus.kafka.config import HEADER_TYPE
from jts.bus.kafka.config import KafkaConfig
from jts.bus.kafka.producer import AsyncProducer
from jts.core.codec import decode_event
from jts.domain.errors import BrokerError
from jts.domain.errors import BusError
from jts.domain.errors import DataError
from jts.domain.errors import DomainError
from jts.domain.errors import StorageError
from jts.domain.events import Event
from jts.domain.events import MinuteMark
from jts.ports import Handler

log = logging.getLogger("jts.bus.kafka")

_OUTAGES = (StorageError, BrokerError, BusError, OSError, TimeoutError)
_REFUSALS = (DataError, DomainError)
_MAX_BACKOFF = 5.0
_MARK_TYPE = MinuteMark.TYPE.encode("utf-8")


@dataclass(slots=True)
class GroupStats:
    consumed: int = 0
    handled: int = 0
    duplicates_skipped: int = 0
    dead_lettered: int = 0
    handler_errors: int = 0
    last_poll: float = 0.0
    assigned: list[str] = field(default_factory=list)


class _Stopping(Exception):
    """Shutdown began while a message was being retried: leave it uncommitted."""


class GroupConsumer:
    def __init__(
        self,
        config: KafkaConfig,
        group: str,
        producer: AsyncProducer,
    ) -> None:
        self.group = group
        self._config = config
        self._producer = producer
        self._handlers: dict[str, list[Handler]] = {}
        self._logical: dict[str, str] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._consumer: Consumer | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kafka-{group}")
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.stats = GroupStats()

    def add(self, logical_topic: str, handler: Handler) -> None:
        physical = self._config.topic(logical_topic)
        self._logical[physical] = logical_topic
        self._handlers.setdefault(physical, []).append(handler)

    @property
    def topics(self) -> list[str]:
        return list(self._handlers)

    async def start(self) -> None:
        self._stopping = False
        consumer = Consumer(self._config.consumer_properties(self.group))
        consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=self._revoked)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(), name=f"kafka-consumer-{self.group}")

    async def stop(self) -> None:
        """Finish the batch in hand, commit what was handled, leave the group."""
        self._stopping = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, _commit_and_close, consumer)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- the loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        consumer = self._consumer
        assert consumer is not None
        while not self._stopping:
            try:
                batch = await loop.run_in_executor(
                    self._executor,
                    _fetch,
                    consumer,
                    self._config.max_batch,
                    self._config.poll_timeout,
                )
            except KafkaException as exc:
                log.warning("kafka group %s: consume failed: %s", self.group, exc)
                await asyncio.sleep(0.5)
                continue
            self.stats.last_poll = time.monotonic()
            if batch:
                await self._handle_batch(batch)

    async def _handle_batch(self, batch: Sequence[Message]) -> None:
        """Keys of the batch concurrently, each key's messages in order; then store offsets.

        A watermark (``minute.mark``) is a barrier: it is handled only after every message
        before it in the batch, so a consumer that has the mark of a partition has handled
        everything published there before it, whatever key it had.

        A partition's offset moves only past messages that were all handled: if shutdown
        interrupts one key, the partition resumes at that key's first unhandled message
        (other keys' messages after it are delivered again and dropped as copies).
        """
        by_partition: dict[tuple[str, int], list[Message]] = {}
        segments: list[list[Message]] = [[]]
        for message in batch:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka group %s: %s", self.group, error)
                continue
            where = (message.topic() or "", message.partition() or 0)
            by_partition.setdefault(where, []).append(message)
            if _is_mark(message):
                segments += [[message], []]
            else:
                segments[-1].append(message)
        done: set[tuple[str, int, int]] = set()
        for segment in segments:
            by_key: dict[tuple[str, int, bytes], list[Message]] = {}
            for message in segment:
                where = (message.topic() or "", message.partition() or 0)
                by_key.setdefault((*where, message.key() or b""), []).append(message)
            await asyncio.gather(*(self._handle_key(msgs, done) for msgs in by_key.values()))
            if any(_where(m) not in done for m in segment):
                break  # stopping inside a segment: the barrier after it is not passed
        consumer = self._consumer
        assert consumer is not None
        for (topic, partition), messages in by_partition.items():
            last = None
            for message in messages:  # in offset order
                if (topic, partition, message.offset() or 0) not in done:
                    break
                last = message
            if last is not None:
                consumer.store_offsets(message=last)

    async def _handle_key(self, messages: list[Message], done: set[tuple[str, int, int]]) -> None:
        for message in messages:
            self.stats.consumed += 1
            try:
                await self._handle(message)
            except _Stopping:
                return  # this message and the rest of the key are delivered again later
            done.add((message.topic() or "", message.partition() or 0, message.offset() or 0))

    async def _handle(self, message: Message) -> None:
        topic = message.topic() or ""
        try:
            event = decode_event(message.value() or b"")
        except DataError as exc:
            await self._dead_letter(message, f"undecodable: {exc}")
            return
        if event.event_id in self._seen:
            self._seen.move_to_end(event.event_id)
            self.stats.duplicates_skipped += 1
            return
        for handler in self._handlers.get(topic, []):
            await self._call(handler, event, message)
        self._seen[event.event_id] = None
        if len(self._seen) > self._config.dedupe_window:
            self._seen.popitem(last=False)
        self.stats.handled += 1

    async def _call(self, handler: Handler, event: Event, message: Message) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await handler(event)
                return
            except _REFUSALS as exc:
                self.stats.handler_errors += 1
                await self._dead_letter(message, f"refused by handler: {exc!r}")
                return
            except _OUTAGES as exc:
                self.stats.handler_errors += 1
                if attempt == 1 or attempt % 10 == 0:
                    log.warning(
                        "kafka group %s: %s %s waits for an outage to end (attempt %d): %s",
                        self.group,
                        event.type,
                        event.event_id,
                        attempt,
                        exc,
                    )
            except Exception as exc:
                self.stats.handler_errors += 1
                log.exception(
                    "kafka group %s: handler failed on %s %s (attempt %d of %d)",
                    self.group,
                    event.type,
                    event.event_id,
                    attempt,
                    self._config.handler_attempts,
                )
                if attempt >= self._config.handler_attempts:
                    await self._dead_letter(message, f"handler failed {attempt} times: {exc!r}")
                    return
            if self._stopping:
                raise _Stopping
            await asyncio.sleep(min(_MAX_BACKOFF, 0.05 * 2 ** min(attempt, 10)))

    async def _dead_letter(self, message: Message, reason: str) -> None:
        """Park ``message`` with ``reason``; only once the DLQ has it does the group move on."""
        topic = message.topic() or ""
        logical = self._logical.get(topic, topic)
        target = self._config.dead_letter_topic(logical)
        source = f"{topic}/{message.partition()}@{message.offset()}"
        headers = [
            (str(item[0]), item[1] if isinstance(item[1], bytes) else b"")
            for item in message.headers() or []
        ]
        headers += [
            (HEADER_DLQ_REASON, reason.encode("utf-8")),
            (HEADER_DLQ_SOURCE, source.encode("utf-8")),
            (HEADER_DLQ_GROUP, self.group.encode("utf-8")),
        ]
        log.error("kafka group %s: %s dead-lettered to %s: %s", self.group, source, target, reason)
        while True:
            try:
                await self._producer.send(
                    target, message.key() or b"", message.value() or b"", headers
                )
                break
            except BusError as exc:
                if self._stopping:
                    raise _Stopping from exc
                log.warning("kafka group %s: dead-letter topic unavailable: %s", self.group, exc)
                await asyncio.sleep(1.0)
        self.stats.dead_lettered += 1

    # -- rebalances (called by librdkafka inside consume, on the consumer's thread) ------

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.stats.assigned = sorted(f"{p.topic}/{p.partition}" for p in partitions)

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Nothing is in hand here (handling and consume never overlap): commit what was handled
        # so the next owner of these partitions starts after it.
        _commit(consumer)
        self.stats.assigned = []


def _where(message: Message) -> tuple[str, int, int]:
    return (message.topic() or "", message.partition() or 0, message.offset() or 0)


def _is_mark(message: Message) -> bool:
    for header in message.headers() or []:
        if header[0] == HEADER_TYPE:
            return bool(header[1] == _MARK_TYPE)
    return False


def _fetch(consumer: Consumer, most: int, wait: float) -> list[Message]:
    """Whatever is ready, as soon as one message is: ``consume(n, t)`` would wait to fill n."""
    first = consumer.poll(wait)
    if first is None:
        return []
    return [first, *consumer.consume(most - 1, 0)] if most > 1 else [first]


def _commit(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:
        error = exc.args[0]
        if not (isinstance(error, KafkaError) and error.code() == KafkaError._NO_OFFSET):
            log.warning("kafka: commit failed: %s", exc)


def _commit_and_close(consumer: Consumer) -> None:
    _commit(consumer)
    consumer.close()
