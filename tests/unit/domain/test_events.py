"""Event ids are derived from what an event says: copies share one, different events never."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import EVENT_ID_MAX
from jts.domain.events import BarEvent
from jts.domain.events import FillEvent
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.domain.events import PortfolioSnapshot
from jts.domain.events import PositionSnapshot
from jts.domain.events import RiskAlert
from jts.domain.events import SignalEvent
from jts.domain.events import TickEvent
from jts.domain.events import derived_event_id
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.signals import Signal

S = OrderStatus
TS = 1_700_000_000_000_000_000


def _order() -> Order:
    return Order(
        instrument_id="KRX:005930",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("10"),
        price=Decimal("70100"),
        created_ts=TS,
        broker="paper",
        client_order_id="C" * 64,  # the longest the orders table stores
    )


def _fill(order: Order, fill_id: str, quantity: str) -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        side=order.side,
        quantity=Decimal(quantity),
        price=Decimal("70100"),
        commission=Decimal("0"),
        tax=Decimal("0"),
        ts=TS + 5,
    )


def _status(order: Order, previous: OrderStatus | None, ts: int = TS) -> OrderStatusChanged:
    return OrderStatusChanged.from_order(order, previous, ts=ts, source="exec")


def test_the_parts_are_separated_so_neighbours_do_not_collide() -> None:
    assert derived_event_id("k", "a", "bc") != derived_event_id("k", "ab", "c")
    assert derived_event_id("k", None) != derived_event_id("k", "")
    assert derived_event_id("k", "a") != derived_event_id("j", "a")


def test_republishing_an_order_state_keeps_its_id_whenever_it_is_published() -> None:
    order = _order()
    assert _status(order, None).event_id == _status(order, None, ts=TS + 99).event_id
    pending = OrderPending.from_order(order, ts=TS, source="a")
    assert pending.event_id == OrderPending.from_order(order, ts=TS + 1, source="b").event_id


def test_every_step_of_an_order_gets_its_own_id_even_a_status_it_returns_to() -> None:
    order = _order()
    ids = [_status(order, None).event_id]
    for step, target in enumerate((S.SUBMITTED, S.UNKNOWN, S.ACCEPTED, S.UNKNOWN, S.ACCEPTED)):
        previous = order.transition(target, TS + step + 1)
        ids.append(_status(order, previous).event_id)
    previous = order.apply_fill(_fill(order, "F1", "4"))
    ids.append(_status(order, previous).event_id)
    order.amend(Decimal("70000"), None, TS + 6)  # a modify keeps the status
    ids.append(_status(order, order.status).event_id)
    previous = order.apply_fill(_fill(order, "F2", "6"))
    ids.append(_status(order, previous).event_id)
    ids.append(OrderPending.from_order(order, ts=TS, source="exec").event_id)

    assert len(set(ids)) == len(ids)
    assert all(len(event_id) <= EVENT_ID_MAX for event_id in ids)


def test_fills_signals_and_ticks_are_named_by_their_own_ids() -> None:
    order = _order()
    fill = _fill(order, "F" * 128, "4")  # the longest fill id the fills table stores
    event = FillEvent.from_fill(fill, ts=TS, source="exec")
    assert event.event_id == FillEvent.from_fill(fill, ts=TS + 1, source="x").event_id
    other = dataclasses.replace(fill, fill_id="F2")
    assert FillEvent.from_fill(other, ts=TS, source="exec").event_id != event.event_id
    assert len(event.event_id) <= EVENT_ID_MAX

    signal = Signal("s1", "KRX:005930", Side.BUY, TS, Decimal("70100"), signal_id="sig-1")
    first = SignalEvent.from_signal(signal, ts=TS, source="engine")
    assert first.event_id == SignalEvent.from_signal(signal, ts=TS + 1, source="e").event_id
    renamed = dataclasses.replace(signal, signal_id="sig-2")
    assert SignalEvent.from_signal(renamed, ts=TS, source="engine").event_id != first.event_id

    tick = Tick("KRX:005930", TS, Decimal("70100"), Decimal("3"))
    once, twice = (TickEvent.from_tick(tick, ts=TS, source="md", seq=n) for n in (0, 1))
    assert once.event_id != twice.event_id  # two equal prints are two prints
    assert once.event_id == TickEvent.from_tick(tick, ts=TS + 1, source="md").event_id


def _snapshot(cash: str, quantity: str) -> PortfolioSnapshot:
    position = PositionSnapshot(
        instrument_id="KRX:005930",
        quantity=Decimal(quantity),
        avg_price=Decimal("70100"),
        last_price=None,
        realised_pnl=Decimal("0"),
        unrealised_pnl=Decimal("0"),
    )
    return PortfolioSnapshot.of(
        ts=TS,
        source="pf",
        account="acct",
        cash=Decimal(cash),
        equity=Decimal("1000000"),
        realised_pnl=Decimal("0"),
        unrealised_pnl=Decimal("0"),
        fees=Decimal("0"),
        taxes=Decimal("0"),
        positions=(position,),
    )


def test_snapshots_at_one_time_differ_when_their_figures_do() -> None:
    assert _snapshot("1000", "4").event_id == _snapshot("1000", "4").event_id
    assert _snapshot("1000", "4").event_id != _snapshot("900", "4").event_id
    assert _snapshot("1000", "4").event_id != _snapshot("1000", "5").event_id
    assert _snapshot("1000", "4").key == "acct"


def test_alerts_are_named_by_their_content() -> None:
    def alert(client_order_id: str) -> RiskAlert:
        return RiskAlert.of(
            ts=TS,
            source="exec",
            key="paper",
            account="paper",
            kind="foreign_order",
            detail="an order this platform did not place",
            halted=True,
            client_order_id=client_order_id,
        )

    assert alert("X1").event_id == alert("X1").event_id
    assert alert("X1").event_id != alert("X2").event_id


def test_a_bar_events_id_names_instrument_timeframe_and_minute_for_every_timeframe() -> None:
    for timeframe in Timeframe:
        bar = Bar(
            "KRX:005930",
            timeframe,
            600 * 60_000_000_000,
            Decimal(100),
            Decimal(110),
            Decimal(90),
            Decimal(105),
            Decimal(7),
        )
        event = BarEvent.from_bar(bar, ts=1, source="test")
        assert event.event_id == f"bar:KRX:005930:{timeframe.value}:{bar.ts}"
        assert BarEvent.from_bar(bar, ts=2, source="other").event_id == event.event_id
