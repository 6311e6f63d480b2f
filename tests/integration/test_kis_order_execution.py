"""Order execution on KIS (fake server): an answer lost after KIS accepted, a retry, a restart.

The issue's fault test end to end: the real OrderExecutionService, a SQLite
store, the in-process bus and the KIS adapter against the fake KIS server,
whose connection is cut after it placed the order and before it answered.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

from fakes.kis_venue import SAMSUNG
from fakes.kis_venue import kis_venue
from jts.brokers.kis.execution import KisExecution
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import LiveClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.events import SignalEvent
from jts.domain.instruments import krx_stock
from jts.domain.signals import Signal
from jts.ports import ExecutionClient
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore


def service_for(
    bus: InProcessMessageBus, store: SqlStore, client: ExecutionClient
) -> OrderExecutionService:
    return OrderExecutionService(
        bus,
        LiveClock(),
        store.orders,
        client,
        {SAMSUNG: krx_stock("005930", "Samsung Electronics")},
        store.outbox,
        SizingConfig(notional_per_order=Decimal(1_000_000)),
    )


async def test_lost_answer_retry_and_restart_leave_one_order_at_kis(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jts.db'}"
    upgrade(url)
    store = SqlStore.open(url)
    bus = InProcessMessageBus(queue_size=64, lanes=2)
    await bus.start()
    try:
        async with kis_venue(tmp_path) as h:
            service = service_for(bus, store, h.execution)
            await service.start()
            h.fake.drop_next("order-cash", after_processing=True)
            clock = LiveClock()
            signal = Signal(
                "sma",
                SAMSUNG,
                Side.BUY,
                clock.timestamp_ns(),
                Decimal(70_000),
                reason="test",
                signal_id=str(uuid.uuid4()),
            )
            await bus.publish(
                topics.SIGNALS,
                SignalEvent.from_signal(signal, ts=clock.timestamp_ns(), source="test"),
            )
            await bus.drain()
            [order] = await store.orders.list()
            assert order.status is OrderStatus.UNKNOWN
            assert len(h.fake.orders) == 1  # KIS has it; we do not know yet

            # The same signal again (a redelivery) cannot make a second order.
            await bus.publish(
                topics.SIGNALS,
                SignalEvent.from_signal(signal, ts=clock.timestamp_ns(), source="test"),
            )
            await bus.drain()
            assert len(await store.orders.list()) == 1

            # Reconciliation finds it among today's orders.
            await service.reconcile()
            [order] = await store.orders.list()
            assert order.status is OrderStatus.ACCEPTED
            assert order.venue_order_id == h.fake.orders[0].odno

            # Restart order execution: a new process, same journal, reconciles at start.
            await service.stop()
            await bus.stop()
            bus = InProcessMessageBus(queue_size=64, lanes=2)
            await bus.start()
            restarted: KisExecution = await h.new_execution_client()
            service = service_for(bus, store, restarted)
            await service.start()
            await service.reconcile()
            assert len(h.fake.orders) == 1

            await h.set_price(Decimal(69_000))

            async def filled() -> bool:
                [current] = await store.orders.list()
                return current.status is OrderStatus.FILLED

            for _ in range(250):
                if await filled():
                    break
                await asyncio.sleep(0.02)
            assert await filled()
            assert len(h.fake.orders) == 1
            [fill] = await store.fills.list()
            assert fill.quantity == order.quantity
            await service.stop()
    finally:
        await bus.stop()
        await store.close()
