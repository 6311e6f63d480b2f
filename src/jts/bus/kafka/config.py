"""Settings of the Kafka bus, and the librdkafka properties they become.

Defaults favour safety, then latency: an idempotent producer with ``acks=all``
(no duplicate or reordered message from the producer's own retries), a
millisecond of linger, Nagle's algorithm off on every broker socket, offsets
stored only after a handler finished and committed in the background every
second (and synchronously on shutdown or rebalance), so a crash redelivers at
most a second of handled events, which consumers drop by ``event_id``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any


class _Repeats(logging.Filter):
    """Let a librdkafka message through once per ``interval`` per client and kind.

    While a broker is down each client reports every reconnect attempt; one line
    every ten seconds says the same and leaves the rest of the log readable.
    """

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__()
        self._interval = interval
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        key = " ".join(text.split()[:2])  # "FAIL [client#consumer-3]"
        now = time.monotonic()
        if now - self._last.get(key, -self._interval) < self._interval:
            return False
        self._last[key] = now
        return True


# librdkafka's own messages go through Python logging, not straight to stderr.
LIBRDKAFKA_LOG = logging.getLogger("jts.bus.kafka.librdkafka")
LIBRDKAFKA_LOG.addFilter(_Repeats())

HEADER_TYPE = "jts-type"
HEADER_VERSION = "jts-version"
# Wall-clock UTC nanoseconds at publish: consumer lag and cross-process latency, measured.
HEADER_PRODUCED_NS = "jts-produced-ns"
HEADER_DLQ_REASON = "jts-dlq-reason"
HEADER_DLQ_SOURCE = "jts-dlq-source"
HEADER_DLQ_GROUP = "jts-dlq-group"


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    bootstrap_servers: str = "127.0.0.1:59092"
    client_id: str = "jts"
    # Prepended to every topic name: one cluster can carry several deployments (or tests).
    topic_prefix: str = ""
    partitions: int = 6
    replication_factor: int = 1
    dlq_suffix: str = ".dlq"
    linger_ms: float = 1.0
    # How long the producer keeps retrying a message before publish() fails.
    delivery_timeout_ms: int = 120_000
    session_timeout_ms: int = 10_000
    commit_interval_ms: int = 1_000
    max_batch: int = 500
    poll_timeout: float = 0.1
    # Event ids remembered per consumer group to drop redelivered copies.
    dedupe_window: int = 16_384
    # Attempts at a handler that raises something other than an outage before its event
    # is dead-lettered; outages (storage, venue, bus) are retried until they end.
    handler_attempts: int = 5

    def topic(self, logical: str) -> str:
        return f"{self.topic_prefix}{logical}"

    def dead_letter_topic(self, logical: str) -> str:
        return f"{self.topic_prefix}{logical}{self.dlq_suffix}"

    def producer_properties(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": self.linger_ms,
            "compression.type": "lz4",
            # Small requests go out at once: with Nagle a produce behind an unacknowledged
            # one can wait for the broker's delayed ACK (up to 40 ms on Linux).
            "socket.nagle.disable": True,
            "delivery.timeout.ms": self.delivery_timeout_ms,
            "reconnect.backoff.max.ms": 2_000,
            "logger": LIBRDKAFKA_LOG,
        }

    def consumer_properties(self, group: str) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": f"{self.client_id}-{group}",
            "group.id": self.topic(group),
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": self.commit_interval_ms,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": self.session_timeout_ms,
            "heartbeat.interval.ms": max(1_000, self.session_timeout_ms // 5),
            "reconnect.backoff.max.ms": 2_000,
            "topic.metadata.refresh.interval.ms": 10_000,
            "socket.nagle.disable": True,
            "logger": LIBRDKAFKA_LOG,
        }

    def admin_properties(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": f"{self.client_id}-admin",
            "logger": LIBRDKAFKA_LOG,
        }
