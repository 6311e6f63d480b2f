"""Over Kafka, held signals are released by the strategy engines' minute marks, lane by lane."""

from __future__ import annotations

from decimal import Decimal

from order_desk import seoul

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.core.watermarks import STAGE_ORDERS
from jts.core.watermarks import STAGE_SIGNALS
from jts.domain.enums import Side
from jts.domain.events import Event
from jts.domain.events import MinuteMark
from jts.domain.events import SignalEvent
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.signals import Signal
from jts.domain.signals import signal_id_for
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.storage.sql.repositories import SqlStore

STOCKS = [krx_stock(code, f"Stock {code}") for code in ("000010", "000020")]


def _signal(key: str, ts: int) -> SignalEvent:
    signal = Signal(
        "s", key, Side.BUY, ts, Decimal(10_000), signal_id=signal_id_for("s", key, "BUY", ts)
    )
    return SignalEvent.from_signal(signal, ts=ts, source="test")


def _mark(minute: int, origin: int) -> MinuteMark:
    # Two bars partitions upstream, one signals partition (the in-process bus).
    return MinuteMark.of(STAGE_SIGNALS, minute, source="engine", origin=origin, origins=2)


async def test_a_minute_is_sized_once_every_lane_marked_it_and_later_minutes_wait(
    store: SqlStore,
) -> None:
    clock = SimClock(seoul(9, 2))
    venue = build_paper_venue(
        clock,
        PaperConfig(starting_cash=Decimal(100_000_000)),
        instruments=STOCKS,
        source=[],
        reference_prices={s.key: Decimal(10_000) for s in STOCKS},
    )
    for stock in STOCKS:
        p = Decimal(10_000)
        venue.engine.on_bar(Bar(stock.key, Timeframe.M1, seoul(9, 0), p, p, p, p, Decimal(10_000)))
    bus = InProcessMessageBus(lanes=1)
    service = OrderExecutionService(
        bus,
        clock,
        store.orders,
        venue.execution,
        {s.key: s for s in STOCKS},
        store.outbox,
        SizingConfig(notional_per_order=Decimal(10_000_000)),
        release_on_marks=True,
    )
    settled: list[MinuteMark] = []
    fills_marks: list[MinuteMark] = []

    async def on_marks(event: Event) -> None:
        if isinstance(event, MinuteMark):
            settled.append(event)

    async def on_fills(event: Event) -> None:
        if isinstance(event, MinuteMark):
            fills_marks.append(event)

    bus.subscribe(topics.MARKS, on_marks, group="pacer")
    bus.subscribe(topics.FILLS, on_fills, group="books")
    await bus.start()
    await service.start()
    try:
        first, second = seoul(9, 1), seoul(9, 2)
        for event in (_signal(STOCKS[0].key, first), _signal(STOCKS[1].key, second)):
            await bus.publish(topics.SIGNALS, event)
        await bus.publish(topics.SIGNALS, _mark(first, 0))
        await bus.drain()
        assert await store.orders.list() == [], "one lane of two has not closed the minute"
        await bus.publish(topics.SIGNALS, _mark(first, 1))
        await bus.publish(topics.SIGNALS, _mark(first, 1))  # a copy: nothing more
        await bus.drain()
        orders = await store.orders.list()
        # The 9:01 signal is sized; 9:02's waits for its own minute's marks.
        assert [o.instrument_id for o in orders] == [STOCKS[0].key]
        assert [(m.stage, m.minute_ts) for m in settled] == [(STAGE_ORDERS, first)]
        assert [(m.stage, m.minute_ts) for m in fills_marks] == [(STAGE_ORDERS, first)]
        for origin in (1, 0):
            await bus.publish(topics.SIGNALS, _mark(second, origin))
        await bus.drain()
        assert {o.instrument_id for o in await store.orders.list()} == {s.key for s in STOCKS}
        assert [m.minute_ts for m in settled] == [first, second]
    finally:
        await service.stop()
        await bus.stop()
