"""Plain librdkafka clients for checking from outside what the platform put on Kafka.

These never go through ``jts.bus``: a test that reads a topic with them checks the
adapter, not the adapter's own view of itself.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer
from confluent_kafka import Message
from confluent_kafka import Producer


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Message]], bool],
    timeout: float = 30.0,
) -> list[Message]:
    """Every message of ``topic`` from the beginning, until ``until`` holds or time runs out."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"outside-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(messages):
            for message in consumer.consume(500, 0.2):
                if message.error() is None:
                    messages.append(message)
    finally:
        consumer.close()
    return messages


def produce_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(10) == 0


def header(message: Message, name: str) -> str | None:
    for key, value in message.headers() or []:
        if key == name and isinstance(value, bytes):
            return value.decode("utf-8")
    return None


def group_lag(bootstrap: str, group: str) -> int:
    """Messages not yet committed by consumer group ``group``, over every topic it reads."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = [ConsumerGroupTopicPartitions(group)]
    committed = admin.list_consumer_group_offsets(request)[group].result(10)
    partitions = committed.topic_partitions or []
    if not partitions:
        return 0
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"lag-{uuid.uuid4().hex}"})
    try:
        lag = 0
        for tp in partitions:
            _, high = probe.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), 10)
            lag += high - max(tp.offset, 0)
        return lag
    finally:
        probe.close()
