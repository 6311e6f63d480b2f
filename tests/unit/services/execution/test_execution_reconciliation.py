"""A broken connection leaves an order UNKNOWN; reconciliation asks the venue, never resends."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from order_desk import SAMSUNG
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import Observe
from order_desk import build_service
from order_desk import paper_venue

from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import OrderStatusChanged
from jts.domain.events import SignalEvent
from jts.domain.orders import Order
from jts.domain.signals import Signal
from jts.domain.timestamps import NANOS_PER_SECOND
from jts.services.execution.reconciliation import reconcile_order

S = OrderStatus


async def statuses(desk: Desk, order_id: str) -> list[OrderStatus]:
    return [after for _, after, _ in await desk.store.orders.audit_trail(order_id)]


async def test_answer_lost_after_acceptance_is_resolved_from_the_venue(
    desk: Desk, observe: Observe
) -> None:
    events = observe(topics.ORDERS_EVENTS)
    desk.link.lose_next_answer = True
    await desk.signal(Side.BUY, 70_000)

    order = await desk.only_order()
    assert order.status is S.UNKNOWN
    assert order.reason is not None and "submit failed" in order.reason
    assert [r.status for r in desk.link.dropped] == [S.ACCEPTED]  # the venue did accept it
    assert desk.service.stats.unknown == 1

    assert await desk.service.reconcile() == 1
    await desk.bus.drain()
    order = await desk.only_order()
    assert order.status is S.ACCEPTED
    venue_order = desk.venue.engine.order(order.client_order_id)
    assert venue_order is not None
    assert order.venue_order_id == venue_order.venue_order_id

    # Fills then arrive the normal way.
    await desk.bar(9, 1, 70_000)
    order = await desk.only_order()
    assert order.status is S.FILLED
    assert await statuses(desk, order.order_id) == [
        S.NEW,
        S.SUBMITTED,
        S.UNKNOWN,
        S.ACCEPTED,
        S.FILLED,
    ]
    assert [e.status for e in events if isinstance(e, OrderStatusChanged)] == [
        S.NEW,
        S.SUBMITTED,
        S.UNKNOWN,
        S.ACCEPTED,
        S.FILLED,
    ]
    # Exactly one order ever reached the venue.
    assert desk.link.sent == [order.client_order_id]
    assert len(desk.venue.engine.orders()) == 1
    assert len(await desk.store.fills.list()) == 1


async def test_reconcile_with_nothing_uncertain_changes_nothing(desk: Desk) -> None:
    await desk.signal(Side.BUY, 70_000)
    assert await desk.service.reconcile() == 0
    assert (await desk.only_order()).status is S.ACCEPTED
    assert len(desk.venue.engine.orders()) == 1


async def test_fills_missed_while_disconnected_are_recovered_once(desk: Desk) -> None:
    desk.link.lose_next_answer = True
    await desk.signal(Side.BUY, 70_000)
    desk.link.deaf = True
    await desk.bar(9, 1, 70_000)  # the venue fills the order; we hear nothing
    desk.link.deaf = False
    missed_fill = desk.link.dropped[-1]
    assert missed_fill.fill is not None

    assert await desk.service.reconcile() == 2  # UNKNOWN -> ACCEPTED -> FILLED
    await desk.bus.drain()
    order = await desk.only_order()
    assert order.status is S.FILLED
    assert order.filled_quantity == Decimal(142)
    stored = await desk.store.fills.list()
    assert [f.fill_id for f in stored] == [missed_fill.fill.fill_id]

    # The venue's own report turns up late: not counted again.
    await desk.service.handle_report(missed_fill)
    await desk.service.reconcile()
    await desk.bus.drain()
    assert len(await desk.store.fills.list()) == 1
    assert (await desk.only_order()).filled_quantity == Decimal(142)


async def test_request_lost_before_the_venue_saw_it_is_closed_not_resent(desk: Desk) -> None:
    desk.link.lose_next_request = True
    await desk.signal(Side.BUY, 70_000)
    assert (await desk.only_order()).status is S.UNKNOWN

    await desk.service.reconcile()
    order = await desk.only_order()
    assert order.status is S.REJECTED
    assert order.reason is not None and "no record" in order.reason
    assert desk.link.sent == []
    assert desk.venue.engine.orders() == []
    assert desk.service.open_orders == []


async def test_rejection_lost_with_the_connection_is_found_by_reconciliation(
    desk: Desk,
) -> None:
    # 95,100 is above the 91,000 daily upper limit (70,000 + 30%): the venue rejects it.
    desk.link.lose_next_answer = True
    await desk.signal(Side.BUY, 95_000)
    assert [r.status for r in desk.link.dropped] == [S.REJECTED]
    assert (await desk.only_order()).status is S.UNKNOWN

    await desk.service.reconcile()
    order = await desk.only_order()
    assert order.status is S.REJECTED
    assert order.reason is not None and "rejected by the venue" in order.reason
    assert desk.service.open_orders == []
    assert (await desk.venue.execution.account()).reserved_cash == 0
    assert SAMSUNG not in (await desk.venue.execution.account()).positions


async def test_expiry_missed_while_disconnected_is_found_by_reconciliation(desk: Desk) -> None:
    await desk.signal(Side.BUY, 60_000)  # a limit far below the market: it rests
    desk.link.deaf = True
    await desk.venue.execution.end_of_session()
    desk.link.deaf = False
    assert [r.status for r in desk.link.dropped] == [S.EXPIRED]
    assert (await desk.only_order()).status is S.ACCEPTED

    assert await desk.service.reconcile() == 1
    order = await desk.only_order()
    assert order.status is S.EXPIRED
    assert await statuses(desk, order.order_id) == [S.NEW, S.SUBMITTED, S.ACCEPTED, S.EXPIRED]
    assert desk.service.open_orders == []


async def test_restart_closes_an_order_the_venue_has_forgotten(desk: Desk) -> None:
    await desk.signal(Side.BUY, 60_000)  # rests at the venue
    await desk.service.stop()

    # The paper venue keeps no memory across restarts: a new one has never seen the order.
    bus = InProcessMessageBus()
    link = FlakyLink(paper_venue(desk.clock).execution)
    restarted = build_service(bus, desk.clock, desk.store, link)
    await bus.start()
    try:
        await restarted.start()  # reconciles what the store says is open
    finally:
        await bus.stop()

    order = await desk.only_order()
    assert order.status is S.CANCELED
    assert order.reason is not None and "no record" in order.reason
    assert link.sent == []
    assert restarted.open_orders == []


async def test_restart_routes_an_order_stranded_as_new_exactly_once(desk: Desk) -> None:
    # A crash after storing NEW but before publishing orders.pending leaves the order NEW.
    stranded = Order(
        instrument_id=SAMSUNG,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(10),
        price=Decimal(60_000),
        created_ts=desk.clock.timestamp_ns(),
        broker="paper",
    )
    await desk.store.orders.add(stranded)
    await desk.service.stop()

    bus = InProcessMessageBus()
    venue = paper_venue(desk.clock)
    link = FlakyLink(venue.execution)
    restarted = build_service(bus, desk.clock, desk.store, link)
    await bus.start()
    try:
        await restarted.start()
        await bus.drain()
    finally:
        await restarted.stop()
        await bus.stop()
    # Another restart against the same venue: the order is no longer NEW, nothing is sent.
    bus = InProcessMessageBus()
    again = build_service(bus, desk.clock, desk.store, link)
    await bus.start()
    try:
        await again.start()
        await bus.drain()
    finally:
        await bus.stop()

    order = await desk.only_order()
    assert order.status is S.ACCEPTED
    assert len(link.sent) == 1
    assert [o.client_order_id for o in await venue.execution.open_orders()] == [
        stranded.client_order_id
    ]


async def test_reconciliation_during_a_submit_does_not_reject_the_order_in_flight(
    desk: Desk,
) -> None:
    # A periodic reconciliation that runs while the submit call is on its way sees a
    # SUBMITTED order the venue does not know yet; it must not call it rejected.
    changed: list[int] = []

    async def reconcile_first(order: Order) -> None:
        changed.append(await desk.service.reconcile())

    desk.link.before_submit = reconcile_first
    await desk.signal(Side.BUY, 70_000)

    order = await desk.only_order()
    assert changed == [0]
    assert order.status is OrderStatus.ACCEPTED
    assert desk.link.sent == [order.client_order_id]


async def test_a_restart_before_the_clock_is_set_never_stamps_the_epoch(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """The embedded run's SimClock reads 0 until its first bar: nothing may be dated 1970."""
    await desk.signal(Side.BUY, 60_000)  # rests at the venue
    await desk.service.stop()
    resting = (await desk.only_order()).updated_ts

    bus = InProcessMessageBus()
    clock = SimClock()  # a fresh run's clock, not yet moved to market time
    link = FlakyLink(paper_venue(desk.clock).execution)
    restarted = build_service(bus, clock, desk.store, link)
    await bus.start()
    try:
        with caplog.at_level(logging.ERROR, logger="jts.execution"):
            await restarted.start()
        assert any("clock" in r.getMessage() for r in caplog.records)
        order = await desk.only_order()
        assert order.status is S.ACCEPTED  # left alone rather than closed "in 1970"
        assert order.updated_ts == resting

        # Market time arrives with the first bar: the deferred reconciliation runs then.
        clock.set_time(desk.clock.timestamp_ns() + 60 * NANOS_PER_SECOND)
        assert await restarted.reconcile() == 1
    finally:
        await bus.stop()

    order = await desk.only_order()
    assert order.status is S.CANCELED
    assert order.updated_ts == clock.timestamp_ns()
    trail = await desk.store.orders.audit_trail(order.order_id)
    placed = desk.clock.timestamp_ns()
    assert trail == [
        (None, S.NEW, placed),
        (S.NEW, S.SUBMITTED, placed),
        (S.SUBMITTED, S.ACCEPTED, placed),
        (S.ACCEPTED, S.CANCELED, clock.timestamp_ns()),  # market time, not 1970
    ]


async def test_reconcile_order_refuses_a_clock_at_zero(desk: Desk) -> None:
    await desk.signal(Side.BUY, 60_000)
    with pytest.raises(ValueError, match="clock"):
        await reconcile_order(await desk.only_order(), desk.link, 0)


async def test_an_order_stranded_as_new_waits_for_the_clock_before_it_is_routed(
    desk: Desk,
) -> None:
    stranded = Order(
        instrument_id=SAMSUNG,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(10),
        price=Decimal(60_000),
        created_ts=desk.clock.timestamp_ns(),
        broker="paper",
    )
    await desk.store.orders.add(stranded)
    await desk.service.stop()

    bus = InProcessMessageBus()
    clock = SimClock()
    link = FlakyLink(paper_venue(desk.clock).execution)
    restarted = build_service(bus, clock, desk.store, link)
    await bus.start()
    try:
        await restarted.start()
        await bus.drain()
        assert link.sent == []  # not routed "in 1970"
        assert (await desk.only_order()).status is S.NEW
        assert not bus.failed

        clock.set_time(desk.clock.timestamp_ns() + 60 * NANOS_PER_SECOND)
        signal = SignalEvent.from_signal(
            Signal("test", SAMSUNG, Side.SELL, clock.timestamp_ns(), Decimal(60_000)),
            ts=clock.timestamp_ns(),
            source="test",
        )
        await bus.publish(topics.SIGNALS, signal)  # the first event after market time began
        await bus.drain()
    finally:
        await restarted.stop()
        await bus.stop()

    order = await desk.store.orders.get(stranded.order_id)
    assert order is not None and order.status is S.ACCEPTED
    assert link.sent == [stranded.client_order_id]
    trail = await desk.store.orders.audit_trail(stranded.order_id)
    assert trail == [
        (None, S.NEW, stranded.created_ts),
        (S.NEW, S.SUBMITTED, clock.timestamp_ns()),  # routed once market time began
        (S.SUBMITTED, S.ACCEPTED, desk.clock.timestamp_ns()),  # the venue's own time
    ]
