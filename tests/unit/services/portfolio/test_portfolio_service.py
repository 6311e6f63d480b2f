"""Portfolio on the real bus and store: fills in, cash, positions and P&L out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import PortfolioSnapshot
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.services.portfolio import PortfolioConfig
from jts.services.portfolio import PortfolioService
from jts.storage.sql.repositories import SqlStore

Observe = Callable[[str], list[Event]]

SAMSUNG = "KRX:005930"
T0 = dt_to_ns(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
START = Decimal(100_000_000)
CONFIG = PortfolioConfig(account="paper", starting_cash=START, snapshot_every_bars=2)

# (side, quantity, price, commission, tax)
TRADES = [
    (Side.BUY, 10, 70_000, "105", "0"),
    (Side.BUY, 10, 72_000, "108", "0"),
    (Side.SELL, 15, 75_000, "169", "2250"),
]
# 100,000,000 - 700,000 - 720,000 + 1,125,000 - (105 + 108 + 169) - 2,250
EXPECTED_CASH = Decimal(99_702_368)


async def store_order_with_fill(
    store: SqlStore, n: int, side: Side, qty: int, price: int, commission: str, tax: str
) -> Fill:
    """An order taken through the real repository to FILLED; its fill is stored with it."""
    ts = T0 + n * NANOS_PER_MINUTE
    order = Order(SAMSUNG, side, OrderType.LIMIT, Decimal(qty), Decimal(price), ts, "paper")
    await store.orders.add(order)
    for status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED):
        await store.orders.save_transition(order, order.transition(status, ts))
    fill = Fill(
        fill_id=f"F{n}",
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument_id=SAMSUNG,
        side=side,
        quantity=Decimal(qty),
        price=Decimal(price),
        commission=Decimal(commission),
        tax=Decimal(tax),
        ts=ts + NANOS_PER_MINUTE,
        liquidity=LiquiditySide.MAKER,
    )
    assert await store.orders.save_transition(order, order.apply_fill(fill), fill=fill)
    return fill


async def stored_trades(store: SqlStore) -> list[Fill]:
    return [await store_order_with_fill(store, n, *trade) for n, trade in enumerate(TRADES)]


async def deliver(bus: InProcessMessageBus, fill: Fill) -> None:
    await bus.publish(topics.FILLS, FillEvent.from_fill(fill, ts=fill.ts, source="test"))
    await bus.drain()


def check_books(portfolio: PortfolioService) -> None:
    assert portfolio.cash == EXPECTED_CASH
    assert portfolio.bought_notional == Decimal(1_420_000)
    assert portfolio.sold_notional == Decimal(1_125_000)
    position = portfolio.positions[SAMSUNG]
    assert position.quantity == Decimal(5)
    assert position.avg_price == Decimal(71_000)
    assert position.realised_pnl == Decimal(60_000)  # (75,000 - 71,000) x 15
    assert position.fees == Decimal(382)
    assert position.taxes == Decimal(2_250)


async def test_fills_make_positions_cash_and_pnl(
    bus: InProcessMessageBus, store: SqlStore, observe: Observe
) -> None:
    snapshots = observe(topics.PORTFOLIO_SNAPSHOTS)
    portfolio = PortfolioService(bus, SimClock(T0), store.positions, store.fills, CONFIG)
    await portfolio.start()
    fills = await stored_trades(store)
    for fill in fills:
        await deliver(bus, fill)

    check_books(portfolio)
    assert [s.cash for s in snapshots if isinstance(s, PortfolioSnapshot)] == [
        START - Decimal(700_105),
        START - Decimal(1_420_213),
        EXPECTED_CASH,
    ]
    [stored] = await store.positions.list("paper")
    assert (stored.quantity, stored.avg_price, stored.realised_pnl) == (
        Decimal(5),
        Decimal(71_000),
        Decimal(60_000),
    )
    assert not bus.failed
    await portfolio.stop()


async def test_without_snapshots_on_fills_the_books_are_the_same_and_nothing_is_published(
    bus: InProcessMessageBus, store: SqlStore, observe: Observe
) -> None:
    snapshots = observe(topics.PORTFOLIO_SNAPSHOTS)
    config = replace(CONFIG, snapshot_on_fill=False)
    portfolio = PortfolioService(bus, SimClock(T0), store.positions, store.fills, config)
    await portfolio.start()
    for fill in await stored_trades(store):
        await deliver(bus, fill)

    check_books(portfolio)
    assert snapshots == []
    assert not bus.failed
    await portfolio.stop()


async def test_bars_mark_the_position_to_market(
    bus: InProcessMessageBus, store: SqlStore, observe: Observe
) -> None:
    snapshots = observe(topics.PORTFOLIO_SNAPSHOTS)
    portfolio = PortfolioService(bus, SimClock(T0), store.positions, store.fills, CONFIG)
    await portfolio.start()
    for fill in await stored_trades(store):
        await deliver(bus, fill)
    for minute, close in ((10, 76_000), (11, 77_000)):
        price = Decimal(close)
        ts = T0 + minute * NANOS_PER_MINUTE
        bar = Bar(SAMSUNG, Timeframe.M1, ts, price, price, price, price, Decimal(1))
        await bus.publish(topics.MARKET_BARS, BarEvent.from_bar(bar, ts=bar.ts, source="test"))
    await bus.drain()

    last = snapshots[-1]
    assert isinstance(last, PortfolioSnapshot)
    assert len(snapshots) == 4  # one per fill, one after two bars
    assert last.unrealised_pnl == Decimal(30_000)  # (77,000 - 71,000) x 5
    assert last.equity == EXPECTED_CASH + 5 * Decimal(77_000)
    assert portfolio.equity() == last.equity  # what a backtest samples every minute
    assert last.realised_pnl == Decimal(60_000)
    await portfolio.stop()


async def test_the_same_fill_delivered_twice_counts_once(
    bus: InProcessMessageBus, store: SqlStore
) -> None:
    portfolio = PortfolioService(bus, SimClock(T0), store.positions, store.fills, CONFIG)
    await portfolio.start()
    fills = await stored_trades(store)
    for fill in fills:
        await deliver(bus, fill)
        await deliver(bus, fill)  # redelivered with a new event id
    await deliver(bus, fills[0])

    check_books(portfolio)
    await portfolio.stop()


async def test_a_new_portfolio_rebuilds_from_the_stored_fills(
    bus: InProcessMessageBus, store: SqlStore
) -> None:
    first = PortfolioService(bus, SimClock(T0), store.positions, store.fills, CONFIG)
    await first.start()
    fills = await stored_trades(store)
    for fill in fills:
        await deliver(bus, fill)
    await first.stop()

    # A restart: a new bus and service on the same store.
    other_bus = InProcessMessageBus()
    rebuilt = PortfolioService(other_bus, SimClock(T0), store.positions, store.fills, CONFIG)
    await other_bus.start()
    try:
        await rebuilt.start()
        check_books(rebuilt)
        assert rebuilt.snapshot().cash == first.cash
        # A fill it already knows from the store, redelivered after the restart.
        await deliver(other_bus, fills[-1])
        check_books(rebuilt)
    finally:
        await other_bus.stop()


async def test_the_mark_does_not_depend_on_whether_a_fill_or_its_bar_came_first(
    bus: InProcessMessageBus, store: SqlStore
) -> None:
    """A fill and the bar of its minute arrive in either order; the mark is the bar's close."""
    fills = await stored_trades(store)
    marks = []
    for bar_first in (True, False):
        own_bus = InProcessMessageBus()  # each service subscribes its group once per bus
        portfolio = PortfolioService(own_bus, SimClock(T0), store.positions, store.fills, CONFIG)
        fill = fills[0]
        close = Decimal(70_300)
        bar = Bar(SAMSUNG, Timeframe.M1, fill.ts, close, close, close, close, Decimal(1))
        bar_event = BarEvent.from_bar(bar, ts=bar.ts, source="test")
        fill_event = FillEvent.from_fill(fill, ts=fill.ts, source="test")
        await own_bus.start()
        try:
            for event in (bar_event, fill_event) if bar_first else (fill_event, bar_event):
                handle = portfolio.handle_bar if event is bar_event else portfolio.handle_fill
                await handle(event)
        finally:
            await own_bus.stop()
        marks.append(portfolio.positions[SAMSUNG].last_price)
    assert marks == [Decimal(70_300), Decimal(70_300)]
