"""All-cash sizing through the service: a BUY spends every free dollar, a SELL closes all."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import PaperVenue
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import SignalEvent
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.signals import Signal
from jts.domain.timestamps import dt_to_ns
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.sim.research import research_instrument
from jts.storage.sql.repositories import SqlStore

GOOG = research_instrument("GOOG")


def day(n: int) -> int:
    return dt_to_ns(datetime(2004, 8, n, tzinfo=UTC))


@dataclass
class Account:
    clock: SimClock
    bus: InProcessMessageBus
    store: SqlStore
    venue: PaperVenue

    async def bar(self, n: int, open_: str, close: str) -> None:
        o, c = Decimal(open_), Decimal(close)
        bar = Bar(GOOG.key, Timeframe.D1, day(n), o, max(o, c), min(o, c), c, Decimal(10**6))
        self.clock.set_time(bar.close_ts)
        await self.venue.execution.on_bar(bar)
        await self.bus.drain()

    async def signal(self, side: Side, price: str) -> None:
        now = self.clock.timestamp_ns()
        signal = Signal("s", GOOG.key, side, now, Decimal(price), signal_id=str(uuid.uuid4()))
        await self.bus.publish(topics.SIGNALS, SignalEvent.from_signal(signal, ts=now, source="t"))
        await self.bus.drain()


@pytest.fixture
async def account(store: SqlStore, bus: InProcessMessageBus) -> AsyncIterator[Account]:
    clock = SimClock(day(18))
    config = PaperConfig(
        rules="research",
        market_venue="RESEARCH",
        currency="USD",
        starting_cash=Decimal(10_000),
        commission_rate=Decimal("0.001"),
    )
    venue = build_paper_venue(clock, config, instruments=[GOOG], source=[])
    service = OrderExecutionService(
        bus,
        clock,
        store.orders,
        venue.execution,
        {GOOG.key: GOOG},
        store.outbox,
        SizingConfig(all_cash=True, order_type=OrderType.MARKET),
    )
    await service.start()
    try:
        yield Account(clock, bus, store, venue)
    finally:
        await bus.drain()
        await service.stop()


async def test_a_buy_spends_all_cash_at_the_next_open_and_a_sell_closes_all(
    account: Account,
) -> None:
    await account.bar(19, "100.00", "100.34")
    await account.signal(Side.BUY, "100.34")
    [order] = await account.store.orders.list()
    assert order.quote_quantity == Decimal(10_000)
    assert order.order_type is OrderType.MARKET and order.status is OrderStatus.ACCEPTED
    await account.bar(20, "101.01", "108.31")
    [order] = await account.store.orders.list()
    [fill] = await account.store.fills.list()
    # 10,000 / (101.01 x 1.001), floored to 1e-8: the quantity the venue chose, stored.
    assert fill.quantity == Decimal("98.90119780")
    assert (order.status, order.quantity, order.filled_quantity) == (
        OrderStatus.FILLED,
        fill.quantity,
        fill.quantity,
    )
    ledger = account.venue.engine.account
    assert 0 <= ledger.cash < Decimal("0.000002")
    await account.signal(Side.BUY, "108.31")  # already holding: nothing more
    assert len(await account.store.orders.list()) == 1
    await account.signal(Side.SELL, "108.31")
    await account.bar(23, "110.75", "109.40")
    sold = [f for f in await account.store.fills.list() if f.side is Side.SELL]
    assert [f.quantity for f in sold] == [fill.quantity]
    assert ledger.positions() == {}
    proceeds = fill.quantity * Decimal("110.75")
    assert ledger.cash == (
        Decimal(10_000) - fill.quantity * Decimal("101.01") * Decimal("1.001")
    ) + proceeds * Decimal("0.999")
