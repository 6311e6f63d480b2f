"""Signals of one minute that compete for cash are sized in a defined order, not by arrival."""

from __future__ import annotations

from decimal import Decimal

import pytest
from order_desk import seoul

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.events import SignalEvent
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.signals import Signal
from jts.domain.signals import signal_id_for
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.storage.sql.repositories import SqlStore

STOCKS = [krx_stock(code, f"Stock {code}") for code in ("000010", "000020", "000030")]
IDS = [stock.key for stock in STOCKS]


async def _orders_after(
    store: SqlStore, arrival: list[str], *, hold: bool, lanes: int = 4
) -> dict[str, tuple[Decimal, OrderStatus]]:
    """Three BUY signals of one minute, published in ``arrival`` order over ``lanes``."""
    clock = SimClock(seoul(9, 1))
    venue = build_paper_venue(
        clock,
        PaperConfig(starting_cash=Decimal(25_000_000)),
        instruments=STOCKS,
        source=[],
        reference_prices={key: Decimal(10_000) for key in IDS},
    )
    for key in IDS:
        p = Decimal(10_000)
        venue.engine.on_bar(Bar(key, Timeframe.M1, seoul(9, 0), p, p, p, p, Decimal(10_000)))
    bus = InProcessMessageBus(lanes=lanes)
    service = OrderExecutionService(
        bus,
        clock,
        store.orders,
        venue.execution,
        {stock.key: stock for stock in STOCKS},
        store.outbox,
        SizingConfig(notional_per_order=Decimal(10_000_000)),
    )
    service.hold_signals = hold
    await bus.start()
    await service.start()
    try:
        for key in arrival:
            ts = seoul(9, 1)
            signal = Signal(
                "s",
                key,
                Side.BUY,
                ts,
                Decimal(10_000),
                signal_id=signal_id_for("s", key, "BUY", ts),
            )
            event = SignalEvent.from_signal(signal, ts=ts, source="test")
            await bus.publish(topics.SIGNALS, event)
        await bus.drain()
        while await service.release_signals():
            await bus.drain()
    finally:
        await service.stop()
        await bus.stop()
    return {o.instrument_id: (o.quantity, o.status) for o in await store.orders.list()}


@pytest.mark.parametrize("arrival", [IDS, IDS[::-1], [IDS[2], IDS[0], IDS[1]]])
async def test_held_signals_get_cash_in_instrument_order_whatever_arrived_first(
    store: SqlStore, arrival: list[str]
) -> None:
    orders = await _orders_after(store, arrival, hold=True)
    # 25 million: 10 million each for the first two (999 at a 10,010 limit, reserving
    # 999 x 10,010 x 1.01 each), and for the third 95% of what is left once its own fee
    # margin is set aside: (25,000,000 - 20,200,179.8) / 1.01 x 0.95 / 10,010 -> 451.
    # None is refused for cash.
    assert orders == {
        IDS[0]: (Decimal(999), OrderStatus.ACCEPTED),
        IDS[1]: (Decimal(999), OrderStatus.ACCEPTED),
        IDS[2]: (Decimal(451), OrderStatus.ACCEPTED),
    }


async def test_signals_not_held_are_sized_as_they_arrive(store: SqlStore) -> None:
    # One lane, so arrival is publish order: the last to arrive gets what is left.
    orders = await _orders_after(store, IDS[::-1], hold=False, lanes=1)
    assert orders[IDS[2]] == (Decimal(999), OrderStatus.ACCEPTED)
    assert orders[IDS[0]] == (Decimal(451), OrderStatus.ACCEPTED)
