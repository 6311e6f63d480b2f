"""Creating the topics of ARCHITECTURE.md (and their dead-letter topics) on the cluster."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from confluent_kafka import KafkaError
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from jts.bus.kafka.config import KafkaConfig
from jts.domain.errors import BusError

log = logging.getLogger("jts.bus.kafka")


async def ensure_topics(config: KafkaConfig, logical_topics: Iterable[str]) -> list[str]:
    """Create the missing topics and their dead-letter topics; returns the names created."""
    names: list[str] = []
    for logical in logical_topics:
        names += [config.topic(logical), config.dead_letter_topic(logical)]
    return await asyncio.to_thread(_create, config, names)


def _create(config: KafkaConfig, names: list[str]) -> list[str]:
    admin = AdminClient(config.admin_properties())
    try:
        existing = set(admin.list_topics(timeout=10).topics)
    except KafkaException as exc:
        raise BusError(f"Kafka at {config.bootstrap_servers} did not answer: {exc}") from exc
    wanted = [
        NewTopic(
            name, num_partitions=config.partitions, replication_factor=config.replication_factor
        )
        for name in names
        if name not in existing
    ]
    if not wanted:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(wanted, operation_timeout=10).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # another process created it first
            raise BusError(f"cannot create Kafka topic {name}: {exc}") from exc
    if created:
        log.info("created Kafka topics: %s", ", ".join(created))
    return created


async def partition_counts(config: KafkaConfig, logical_topics: Iterable[str]) -> dict[str, int]:
    """How many partitions each topic really has (a topic made before may differ from config)."""
    names = {config.topic(logical): logical for logical in logical_topics}
    return await asyncio.to_thread(_counts, config, names)


def _counts(config: KafkaConfig, names: dict[str, str]) -> dict[str, int]:
    admin = AdminClient(config.admin_properties())
    try:
        metadata = admin.list_topics(timeout=10).topics
    except KafkaException as exc:
        raise BusError(f"Kafka at {config.bootstrap_servers} did not answer: {exc}") from exc
    return {
        logical: len(metadata[name].partitions)
        for name, logical in names.items()
        if name in metadata and metadata[name].partitions
    }
