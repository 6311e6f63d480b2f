"""The Kafka bus against a real broker (scripts/kafka.sh): order, groups, dead letters."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from jts.bus.kafka import KafkaConfig
from jts.bus.kafka import KafkaMessageBus
from jts.core import topics
from jts.core.codec import decode_event
from jts.core.codec import encode_event
from jts.domain.enums import Side
from jts.domain.events import Event
from jts.domain.events import SignalEvent
from jts.domain.signals import Signal
from kafka_tools import header
from kafka_tools import produce_raw
from kafka_tools import read_topic
from kafka_tools import unique_prefix


def signal_event(instrument: str, n: int) -> SignalEvent:
    signal = Signal("sma", instrument, Side.BUY, ts=n, price=Decimal(70_000 + n))
    return SignalEvent.from_signal(signal, ts=n, source="test")


async def wait_for(condition: object, seconds: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_events_keep_their_order_per_key_across_partitions(kafka_bootstrap: str) -> None:
    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix(), partitions=4)
    bus = KafkaMessageBus(config)
    seen: list[SignalEvent] = []

    async def handler(event: Event) -> None:
        assert isinstance(event, SignalEvent)
        seen.append(event)

    bus.subscribe(topics.SIGNALS, handler, group="order-execution")
    await bus.start()
    try:
        keys = [f"KRX:00{n:04d}" for n in range(8)]
        sent = [signal_event(key, n) for n in range(25) for key in keys]
        await asyncio.gather(*(bus.publish(topics.SIGNALS, e) for e in sent))
        await wait_for(lambda: len(seen) >= len(sent))
    finally:
        await bus.stop()

    assert sorted(e.event_id for e in seen) == sorted(e.event_id for e in sent)
    for key in keys:
        assert [e.ts for e in seen if e.key == key] == list(range(25))


async def test_events_published_together_arrive_in_order_and_each_is_acknowledged(
    kafka_bootstrap: str,
) -> None:
    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix(), partitions=4)
    bus = KafkaMessageBus(config)
    seen: list[SignalEvent] = []

    async def handler(event: Event) -> None:
        assert isinstance(event, SignalEvent)
        seen.append(event)

    bus.subscribe(topics.SIGNALS, handler, group="order-execution")
    await bus.start()
    try:
        sent = [signal_event(f"KRX:00{n % 3:04d}", n) for n in range(30)]
        outcomes = await bus.publish_all([(topics.SIGNALS, e) for e in sent])
        await wait_for(lambda: len(seen) >= len(sent))
    finally:
        await bus.stop()

    assert outcomes == [None] * len(sent)
    assert bus.published == len(sent)
    for n in range(3):
        key = f"KRX:00{n:04d}"
        assert [e.ts for e in seen if e.key == key] == [e.ts for e in sent if e.key == key]


async def test_events_on_the_wire_are_versioned_json_keyed_by_instrument(
    kafka_bootstrap: str,
) -> None:
    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix())
    bus = KafkaMessageBus(config)
    await bus.start()
    event = signal_event("KRX:005930", 1)
    try:
        await bus.publish(topics.SIGNALS, event)
    finally:
        await bus.stop()

    [message] = read_topic(kafka_bootstrap, config.topic(topics.SIGNALS), until=bool)
    body = json.loads(message.value() or b"")
    assert message.key() == b"KRX:005930"
    assert body["type"] == "signal" and body["version"] == SignalEvent.VERSION
    assert body["signal"]["price"] == "70001"  # Decimal as a string: nothing lost
    assert header(message, "jts-version") == str(SignalEvent.VERSION)
    assert decode_event(message.value() or b"") == event


async def test_a_group_resumes_after_what_it_handled_and_drops_copies(kafka_bootstrap: str) -> None:
    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix())
    first = [signal_event("KRX:005930", n) for n in range(5)]
    later = [signal_event("KRX:005930", n) for n in range(5, 8)]
    seen: list[int] = []

    async def handler(event: Event) -> None:
        seen.append(event.ts)

    bus = KafkaMessageBus(config)
    bus.subscribe(topics.SIGNALS, handler, group="g")
    await bus.start()
    for event in first:
        await bus.publish(topics.SIGNALS, event)
    await bus.publish(topics.SIGNALS, first[0])  # a copy, as a producer retry could make
    await wait_for(lambda: len(seen) >= 5 and bus.group_stats()["g"].duplicates_skipped == 1)
    await bus.stop()

    again = KafkaMessageBus(config)
    again.subscribe(topics.SIGNALS, handler, group="g")
    await again.start()
    try:
        for event in later:
            await again.publish(topics.SIGNALS, event)
        await wait_for(lambda: len(seen) >= 8)
        await asyncio.sleep(0.5)
    finally:
        await again.stop()

    assert seen == list(range(8))


async def test_bad_messages_are_dead_lettered_with_the_reason_and_the_group_goes_on(
    kafka_bootstrap: str,
) -> None:
    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix())
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    bus = KafkaMessageBus(config)
    bus.subscribe(topics.SIGNALS, handler, group="order-execution")
    await bus.start()
    try:
        topic = config.topic(topics.SIGNALS)
        good = signal_event("KRX:005930", 1)
        future = json.loads(encode_event(good)) | {"version": 99, "event_id": "v99"}
        await asyncio.to_thread(produce_raw, kafka_bootstrap, topic, b"KRX:005930", b"{not json")
        await asyncio.to_thread(
            produce_raw, kafka_bootstrap, topic, b"KRX:005930", json.dumps(future).encode()
        )
        await bus.publish(topics.SIGNALS, good)
        await wait_for(lambda: len(seen) == 1)
    finally:
        await bus.stop()

    assert seen == [good]
    letters = read_topic(
        kafka_bootstrap, config.dead_letter_topic(topics.SIGNALS), until=lambda m: len(m) >= 2
    )
    reasons = [header(m, "jts-dlq-reason") or "" for m in letters]
    assert letters[0].value() == b"{not json"
    assert "not JSON" in reasons[0]
    assert "unsupported version 99" in reasons[1]
    assert all(header(m, "jts-dlq-group") == "order-execution" for m in letters)
    assert all((header(m, "jts-dlq-source") or "").startswith(topic + "/") for m in letters)


async def test_a_minute_mark_is_handled_after_everything_before_it_on_its_partition(
    kafka_bootstrap: str,
) -> None:
    """Keys are handled concurrently, so a slow key would let a mark (a key of its own)
    overtake it; marks are barriers instead. Everything is on the topic before the group
    starts, so one batch holds the slow signals and the marks behind them."""
    from jts.core.watermarks import STAGE_SIGNALS
    from jts.core.watermarks import broadcast
    from jts.domain.events import MinuteMark

    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix(), partitions=3)
    publisher = KafkaMessageBus(config)
    await publisher.start()
    where: dict[str, int] = {}
    try:
        for n in range(12):
            event = signal_event(f"KRX:00{n:04d}", n)
            where[event.event_id] = (await publisher.send(topics.SIGNALS, event)).partition
        await broadcast(publisher, topics.SIGNALS, MinuteMark.of(STAGE_SIGNALS, 60, source="t"))
    finally:
        await publisher.stop()

    consumer = KafkaMessageBus(config)
    handled: set[str] = set()
    early: list[str] = []
    marks: list[int] = []

    async def handler(event: Event) -> None:
        if isinstance(event, MinuteMark):
            missing = [e for e, p in where.items() if p == event.partition and e not in handled]
            early.extend(missing)
            marks.append(event.partition)
            return
        await asyncio.sleep(0.2)  # slower than the mark would be
        handled.add(event.event_id)

    consumer.subscribe(topics.SIGNALS, handler, group="order-execution")
    await consumer.start()
    try:
        await wait_for(lambda: len(marks) >= 3 and len(handled) >= len(where))
    finally:
        await consumer.stop()
    assert sorted(marks) == [0, 1, 2]
    assert early == [], "a mark was handled before signals published ahead of it"
