"""The roadmap's integration test: placing an order publishes it on ``orders.pending``.

Real parts only: PostgreSQL from scripts/postgres.sh, Kafka from scripts/kafka.sh,
the order execution service and the paper venue. What went out is read back by a
plain Kafka consumer of the topic, not by the bus adapter that sent it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jts.brokers.paper.factory import build_paper_venue
from jts.bus.kafka import KafkaConfig
from jts.bus.kafka import KafkaMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.events import SignalEvent
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.signals import Signal
from jts.domain.timestamps import dt_to_ns
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from kafka_tools import read_topic
from kafka_tools import unique_prefix

pytestmark = pytest.mark.postgres

SAMSUNG = "KRX:005930"


def seoul(hh: int, mm: int) -> int:
    return dt_to_ns(datetime(2026, 3, 3, hh, mm, tzinfo=ZoneInfo("Asia/Seoul")))


def minute_bar(hh: int, mm: int, price: int) -> Bar:
    p = Decimal(price)
    return Bar(SAMSUNG, Timeframe.M1, seoul(hh, mm), p, p, p, p, Decimal(10_000))


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[SqlStore]:
    await asyncio.to_thread(upgrade, postgres_url)
    sql = SqlStore.open(postgres_url)
    yield sql
    await sql.close()


async def test_a_signal_becomes_an_order_in_postgres_and_on_orders_pending(
    kafka_bootstrap: str, store: SqlStore
) -> None:
    config = KafkaConfig(kafka_bootstrap, topic_prefix=unique_prefix(), partitions=3)
    bus = KafkaMessageBus(config)
    clock = SimClock(seoul(9, 1))
    venue = build_paper_venue(
        clock,
        instruments=[krx_stock("005930", "Samsung Electronics")],
        source=[],
        reference_prices={SAMSUNG: Decimal(70_000)},
    )
    venue.engine.on_bar(minute_bar(9, 0, 70_000))
    service = OrderExecutionService(
        bus,
        clock,
        store.orders,
        venue.execution,
        {SAMSUNG: venue.engine.instrument(SAMSUNG)},  # type: ignore[dict-item]
        store.outbox,
        SizingConfig(notional_per_order=Decimal(1_000_000)),
    )
    await bus.start()
    await service.start()
    signal = Signal("sma", SAMSUNG, Side.BUY, ts=seoul(9, 1), price=Decimal(70_000))
    try:
        await bus.publish(topics.SIGNALS, SignalEvent.from_signal(signal, ts=1, source="test"))
        for _ in range(300):
            orders = await store.orders.list()
            # Stored and published: NEW with orders.pending, SUBMITTED, ACCEPTED.
            accepted = orders and orders[0].status is OrderStatus.ACCEPTED
            if accepted and service.relay.stats.delivered >= 4:
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
        await bus.stop()

    [order] = await store.orders.list()
    assert order.status is OrderStatus.ACCEPTED
    assert order.signal_id == signal.signal_id

    pending = read_topic(
        kafka_bootstrap, config.topic(topics.ORDERS_PENDING), until=lambda m: len(m) >= 1
    )
    assert len(pending) == 1
    body = json.loads(pending[0].value() or b"")
    assert pending[0].key() == order.order_id.encode()
    assert body["type"] == "order.pending"
    assert body["client_order_id"] == order.client_order_id
    assert body["instrument_id"] == SAMSUNG and body["side"] == "BUY"
    assert Decimal(body["quantity"]) == order.quantity

    events = read_topic(
        kafka_bootstrap, config.topic(topics.ORDERS_EVENTS), until=lambda m: len(m) >= 3
    )
    statuses = [json.loads(m.value() or b"")["status"] for m in events]
    assert statuses == ["NEW", "SUBMITTED", "ACCEPTED"]
    # Everything the service committed went out, and the outbox knows it.
    assert await store.outbox.pending() == []
