"""An order desk of real parts: the paper venue, a SQLite store, the in-process bus.

``FlakyLink`` is the only test double: an ExecutionClient that wraps the real
PaperExecutionClient and delegates everything, but can lose a request before the
venue sees it, lose the venue's answer after it accepted the order, or go deaf
(drop reports) for a while, the way a broker connection fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from jts.brokers.paper.execution import PaperExecutionClient
from jts.brokers.paper.factory import PaperVenue
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.core.storage_retry import StorageRetry
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import BrokerUnavailable
from jts.domain.events import Event
from jts.domain.events import SignalEvent
from jts.domain.fills import Fill
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import OrderStatusReport
from jts.domain.signals import Signal
from jts.domain.timestamps import dt_to_ns
from jts.ports import DeadLetterSink
from jts.ports import ReportHandler
from jts.ports import TradingHaltStore
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.storage.halts import FileHaltStore
from jts.storage.sql.repositories import SqlStore

# The ``observe`` fixture of tests/unit/services/conftest.py.
Observe = Callable[[str], list[Event]]

SAMSUNG = "KRX:005930"
INSTRUMENT = krx_stock("005930", "Samsung Electronics")


def seoul(hh: int, mm: int) -> int:
    """A Tuesday session of the KRX (2026-03-03), Seoul wall-clock time."""
    return dt_to_ns(datetime(2026, 3, 3, hh, mm, tzinfo=ZoneInfo("Asia/Seoul")))


def minute_bar(hh: int, mm: int, price: int, volume: int = 10_000) -> Bar:
    p = Decimal(price)
    return Bar(SAMSUNG, Timeframe.M1, seoul(hh, mm), p, p, p, p, Decimal(volume))


class FlakyLink:
    """ExecutionClient over a real PaperExecutionClient whose connection can fail."""

    def __init__(self, inner: PaperExecutionClient) -> None:
        self.inner = inner
        self.venue = inner.venue
        self._handler: ReportHandler | None = None
        self.lose_next_request = False
        self.lose_next_answer = False
        self.deaf = False
        self.dropped: list[ExecutionReport] = []
        self.sent: list[str] = []
        self.before_submit: Callable[[Order], Awaitable[None]] | None = None
        inner.set_report_handler(self._relay)

    async def _relay(self, report: ExecutionReport) -> None:
        if self.deaf:
            self.dropped.append(report)
        elif self._handler is not None:
            await self._handler(report)

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    async def connect(self) -> None:
        await self.inner.connect()

    async def disconnect(self) -> None:
        await self.inner.disconnect()

    async def submit_order(self, order: Order) -> None:
        if self.before_submit is not None:
            await self.before_submit(order)
        if self.lose_next_request:
            self.lose_next_request = False
            raise BrokerUnavailable("connection reset before the order was sent")
        self.sent.append(order.client_order_id)
        if not self.lose_next_answer:
            await self.inner.submit_order(order)
            return
        self.lose_next_answer = False
        deaf, self.deaf = self.deaf, True
        try:
            await self.inner.submit_order(order)
        finally:
            self.deaf = deaf
        raise BrokerUnavailable("connection dropped while waiting for the venue's answer")

    async def cancel_order(self, order: Order) -> None:
        await self.inner.cancel_order(order)

    async def modify_order(
        self, order: Order, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        if self.lose_next_request:
            self.lose_next_request = False
            raise BrokerUnavailable("connection reset before the modify was sent")
        await self.inner.modify_order(order, price=price, quantity=quantity)

    async def query_order(self, client_order_id: str) -> OrderStatusReport | None:
        return await self.inner.query_order(client_order_id)

    async def open_orders(self) -> list[OrderStatusReport]:
        return await self.inner.open_orders()

    async def fills(self, since_ns: int) -> list[Fill]:
        return await self.inner.fills(since_ns)

    async def account(self) -> AccountState:
        return await self.inner.account()


@dataclass
class Desk:
    clock: SimClock
    bus: InProcessMessageBus
    store: SqlStore
    venue: PaperVenue
    link: FlakyLink
    service: OrderExecutionService
    halts: FileHaltStore

    async def signal(self, side: Side, price: int, *, signal_id: str | None = None) -> SignalEvent:
        """Publish a strategy's signal and wait until everything it caused has happened."""
        event = SignalEvent.from_signal(
            Signal(
                "test-strategy",
                SAMSUNG,
                side,
                self.clock.timestamp_ns(),
                Decimal(price),
                reason="test",
                signal_id=signal_id or str(uuid.uuid4()),
            ),
            ts=self.clock.timestamp_ns(),
            source="test",
        )
        await self.bus.publish(topics.SIGNALS, event)
        await self.bus.drain()
        return event

    async def bar(
        self, hh: int, mm: int, price: int, volume: int = 10_000
    ) -> list[ExecutionReport]:
        """One minute of market data reaches the venue at its close, as in Platform.run."""
        bar = minute_bar(hh, mm, price, volume)
        self.clock.set_time(bar.close_ts)
        reports = await self.venue.execution.on_bar(bar)
        await self.bus.drain()
        return reports

    async def outside_order(
        self, side: Side, quantity: int, price: int, client_order_id: str = "OUTSIDE1"
    ) -> Order:
        """An order someone else placed at the venue (with a stolen token, by hand in the HTS)."""
        order = Order(
            SAMSUNG,
            side,
            OrderType.LIMIT,
            Decimal(quantity),
            Decimal(price),
            self.clock.timestamp_ns(),
            "paper",
            client_order_id=client_order_id,
        )
        await self.venue.execution.submit_order(order)
        await self.bus.drain()
        return order

    async def only_order(self) -> Order:
        orders = await self.store.orders.list()
        assert len(orders) == 1, orders
        return orders[0]


def build_service(
    bus: InProcessMessageBus,
    clock: SimClock,
    store: SqlStore,
    link: FlakyLink,
    halts: TradingHaltStore | None = None,
    *,
    storage_retry: StorageRetry | None = None,
    dead_letters: DeadLetterSink | None = None,
) -> OrderExecutionService:
    return OrderExecutionService(
        bus,
        clock,
        store.orders,
        link,
        {SAMSUNG: INSTRUMENT},
        store.outbox,
        SizingConfig(notional_per_order=Decimal(10_000_000)),
        halts=halts,
        storage_retry=storage_retry,
        dead_letters=dead_letters,
    )


def paper_venue(clock: SimClock) -> PaperVenue:
    """The paper KRX venue with Samsung at a 70,000 previous close, open since 09:00."""
    venue = build_paper_venue(
        clock,
        instruments=[INSTRUMENT],
        source=[],
        reference_prices={SAMSUNG: Decimal(70_000)},
    )
    venue.engine.on_bar(minute_bar(9, 0, 70_000))
    return venue
