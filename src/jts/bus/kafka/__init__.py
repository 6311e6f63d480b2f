"""The MessageBus on Apache Kafka (confluent-kafka / librdkafka); see ``bus.py``."""

from jts.bus.kafka.bus import KafkaMessageBus
from jts.bus.kafka.config import KafkaConfig

__all__ = ["KafkaConfig", "KafkaMessageBus"]
