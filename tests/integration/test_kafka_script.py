"""scripts/kafka.sh gives a real broker whose data survives a restart."""

from __future__ import annotations

from collections.abc import Callable

from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from kafka_tools import produce_raw
from kafka_tools import read_topic
from kafka_tools import unique_prefix


def test_a_topic_made_before_a_restart_keeps_its_messages(
    kafka_bootstrap: str, kafka_restart: Callable[[], None]
) -> None:
    topic = unique_prefix() + "script-check"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)
    produce_raw(kafka_bootstrap, topic, b"k", b"before the restart")

    kafka_restart()

    produce_raw(kafka_bootstrap, topic, b"k", b"after the restart")
    messages = read_topic(kafka_bootstrap, topic, until=lambda m: len(m) >= 2)
    assert [m.value() for m in messages] == [b"before the restart", b"after the restart"]
