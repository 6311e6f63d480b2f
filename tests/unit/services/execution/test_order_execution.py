"""The order path on real parts: signal -> stored order -> orders.pending -> venue -> reports."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import msgspec
from order_desk import SAMSUNG
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import Observe
from order_desk import build_service

from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.events import Event
from jts.domain.events import FillEvent
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.domain.orders import Order
from jts.services.execution import client_order_id_for

S = OrderStatus


def replayed(event: Event) -> Event:
    """The same message delivered again (at-least-once): same content, new envelope id."""
    return msgspec.structs.replace(event, event_id=uuid.uuid4().hex)


async def trail(desk: Desk, order_id: str) -> list[tuple[OrderStatus | None, OrderStatus]]:
    return [(before, after) for before, after, _ in await desk.store.orders.audit_trail(order_id)]


async def test_signal_becomes_a_pending_order_seen_by_an_independent_subscriber(
    desk: Desk, observe: Observe
) -> None:
    pending = observe(topics.ORDERS_PENDING)
    at_venue: list[tuple[OrderStatus, list[tuple[OrderStatus | None, OrderStatus]]]] = []

    async def look_in_the_store(order: Order) -> None:
        stored = await desk.store.orders.get(order.order_id)
        assert stored is not None
        at_venue.append((stored.status, await trail(desk, order.order_id)))

    desk.link.before_submit = look_in_the_store
    signal = (await desk.signal(Side.BUY, 70_000)).signal

    assert len(pending) == 1
    event = pending[0]
    assert isinstance(event, OrderPending)
    assert event.instrument_id == SAMSUNG
    assert event.side is Side.BUY
    # 10,000,000 KRW at a 70,100 limit (one tick above the signal price) -> 142 shares.
    assert event.quantity == Decimal(142)
    assert event.price == Decimal(70_100)
    assert event.status is S.NEW
    assert event.signal_id == signal.signal_id
    assert event.client_order_id == client_order_id_for(signal.signal_id)

    # Stored NEW, then SUBMITTED, both before the venue saw the order.
    assert at_venue == [(S.SUBMITTED, [(None, S.NEW), (S.NEW, S.SUBMITTED)])]
    order = await desk.only_order()
    assert order.order_id == event.order_id
    assert order.status is S.ACCEPTED
    assert order.venue_order_id is not None
    assert await trail(desk, order.order_id) == [
        (None, S.NEW),
        (S.NEW, S.SUBMITTED),
        (S.SUBMITTED, S.ACCEPTED),
    ]
    assert not desk.bus.failed


async def test_fill_completes_the_order_and_is_stored_once(desk: Desk, observe: Observe) -> None:
    fills = observe(topics.FILLS)
    await desk.signal(Side.BUY, 70_000)
    await desk.bar(9, 1, 70_000)

    order = await desk.only_order()
    assert order.status is S.FILLED
    assert order.filled_quantity == Decimal(142)
    assert order.avg_fill_price == Decimal(70_000)  # the open, better than the 70,100 limit
    stored = await desk.store.fills.list(order_id=order.order_id)
    assert [(f.quantity, f.price, f.order_id) for f in stored] == [
        (Decimal(142), Decimal(70_000), order.order_id)
    ]
    assert [e.fill.fill_id for e in fills if isinstance(e, FillEvent)] == [stored[0].fill_id]
    assert (await trail(desk, order.order_id))[-1] == (S.ACCEPTED, S.FILLED)
    assert desk.service.open_orders == []


async def test_replayed_signal_creates_no_second_order(desk: Desk) -> None:
    signal = await desk.signal(Side.BUY, 70_000)
    await desk.bus.publish(topics.SIGNALS, replayed(signal))
    await desk.bus.drain()

    await desk.only_order()
    assert len(desk.venue.engine.orders()) == 1
    assert desk.service.stats.skipped == {"duplicate signal": 1}


async def test_replayed_signal_after_a_restart_creates_no_second_order(desk: Desk) -> None:
    signal = await desk.signal(Side.BUY, 70_000)
    await desk.service.stop()

    # A new process: new bus, new service, same store and venue.
    bus = InProcessMessageBus()
    restarted = build_service(bus, desk.clock, desk.store, FlakyLink(desk.venue.execution))
    await bus.start()
    try:
        await restarted.start()
        await bus.publish(topics.SIGNALS, replayed(signal))
        await bus.drain()
    finally:
        await bus.stop()

    await desk.only_order()
    assert len(desk.venue.engine.orders()) == 1
    assert restarted.stats.skipped == {"duplicate signal": 1}


async def test_replayed_pending_event_never_reaches_the_venue_twice(
    desk: Desk, observe: Observe
) -> None:
    pending = observe(topics.ORDERS_PENDING)
    await desk.signal(Side.BUY, 70_000)
    await desk.bus.publish(topics.ORDERS_PENDING, replayed(pending[0]))
    await desk.bus.drain()

    assert len(desk.link.sent) == 1
    assert len(desk.venue.engine.orders()) == 1
    assert len(await desk.venue.execution.open_orders()) == 1

    # Replayed again after the order filled: still one order and one fill at the venue.
    await desk.bar(9, 1, 70_000)
    await desk.bus.publish(topics.ORDERS_PENDING, replayed(pending[0]))
    await desk.bus.drain()
    assert len(desk.link.sent) == 1
    assert len(desk.venue.engine.fills()) == 1
    assert (await desk.only_order()).status is S.FILLED


async def test_replayed_pending_event_after_a_restart_is_not_sent(
    desk: Desk, observe: Observe
) -> None:
    pending = observe(topics.ORDERS_PENDING)
    await desk.signal(Side.BUY, 70_000)
    await desk.service.stop()

    bus = InProcessMessageBus()
    link = FlakyLink(desk.venue.execution)
    restarted = build_service(bus, desk.clock, desk.store, link)
    await bus.start()
    try:
        await restarted.start()
        await bus.publish(topics.ORDERS_PENDING, replayed(pending[0]))
        await bus.drain()
    finally:
        await bus.stop()

    assert link.sent == []
    assert len(desk.venue.engine.orders()) == 1
    # The restarted service picked the open order up from the store.
    first = pending[0]
    assert isinstance(first, OrderPending)
    assert [o.order_id for o in restarted.open_orders] == [first.order_id]


async def test_every_state_change_is_stored_before_it_is_published(desk: Desk) -> None:
    seen: list[tuple[OrderStatus | None, OrderStatus, bool]] = []
    fills_stored_at_receipt: list[bool] = []

    async def on_status(event: Event) -> None:
        assert isinstance(event, OrderStatusChanged)
        stored = await trail(desk, event.order_id)
        seen.append(
            (event.previous_status, event.status, (event.previous_status, event.status) in stored)
        )

    async def on_fill(event: Event) -> None:
        assert isinstance(event, FillEvent)
        stored = await desk.store.fills.list(order_id=event.fill.order_id)
        fills_stored_at_receipt.append(event.fill.fill_id in {f.fill_id for f in stored})

    desk.bus.subscribe(topics.ORDERS_EVENTS, on_status, group="test-audit-check")
    desk.bus.subscribe(topics.FILLS, on_fill, group="test-fill-check")

    await desk.signal(Side.BUY, 70_000)
    await desk.bar(9, 1, 70_000, volume=500)  # 10% participation: 50 of 142
    await desk.bar(9, 2, 70_000)

    assert seen == [
        (None, S.NEW, True),
        (S.NEW, S.SUBMITTED, True),
        (S.SUBMITTED, S.ACCEPTED, True),
        (S.ACCEPTED, S.PARTIALLY_FILLED, True),
        (S.PARTIALLY_FILLED, S.FILLED, True),
    ]
    assert fills_stored_at_receipt == [True, True]
    assert not desk.bus.failed


async def test_duplicate_fill_report_is_not_counted_twice(desk: Desk, observe: Observe) -> None:
    fill_events = observe(topics.FILLS)
    await desk.signal(Side.BUY, 70_000)
    partial = await desk.bar(9, 1, 70_000, volume=500)
    assert [r.status for r in partial] == [S.PARTIALLY_FILLED]

    # The venue delivers the same execution again (a reconnect replays recent reports).
    await desk.service.handle_report(partial[0])
    await desk.bus.drain()
    order = await desk.only_order()
    assert order.status is S.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal(50)
    assert len(await desk.store.fills.list()) == 1
    assert desk.service.stats.duplicate_reports == 1

    final = await desk.bar(9, 2, 70_000)
    await desk.service.handle_report(final[0])  # replayed after the order is complete
    await desk.service.handle_report(partial[0])
    await desk.bus.drain()

    order = await desk.only_order()
    assert order.status is S.FILLED
    assert order.filled_quantity == Decimal(142)
    assert sum(f.quantity for f in await desk.store.fills.list()) == Decimal(142)
    assert len(fill_events) == 2
    assert desk.service.stats.duplicate_reports == 3
    assert desk.service.stats.fills == 2


async def test_sell_signal_closes_the_position_held_at_the_venue(desk: Desk) -> None:
    await desk.signal(Side.BUY, 70_000)
    await desk.bar(9, 1, 70_000)
    await desk.signal(Side.BUY, 70_000)  # already holding: no second buy
    assert desk.service.stats.skipped == {"already holding": 1}

    await desk.signal(Side.SELL, 71_000)
    sell = (await desk.store.orders.list(statuses=[S.ACCEPTED]))[0]
    assert (sell.side, sell.quantity, sell.price) == (Side.SELL, Decimal(142), Decimal(70_900))
    await desk.bar(9, 2, 71_000)
    assert (await desk.venue.execution.account()).positions.get(SAMSUNG, Decimal(0)) == 0
    assert desk.service.stats.orders == 2

    await desk.signal(Side.SELL, 71_000)  # nothing left to sell
    assert desk.service.stats.skipped == {"already holding": 1, "nothing to sell": 1}


async def test_a_sell_is_sized_from_our_books_when_the_venue_reports_more_shares(
    desk: Desk,
) -> None:
    await desk.signal(Side.BUY, 70_000)
    await desk.bar(9, 1, 70_000)
    # 55 more shares reach the account behind our back (their reports never reach us).
    desk.link.deaf = True
    await desk.outside_order(Side.BUY, 55, 70_500)
    await desk.bar(9, 2, 70_000)
    desk.link.deaf = False
    assert (await desk.venue.execution.account()).positions[SAMSUNG] == Decimal(197)

    await desk.signal(Side.SELL, 71_000)
    sell = (await desk.store.orders.list(statuses=[S.ACCEPTED]))[0]
    assert (sell.side, sell.quantity) == (Side.SELL, Decimal(142))
    await desk.bar(9, 3, 71_000)
    assert await desk.store.orders.net_filled(SAMSUNG) == 0  # flat in our books, never short
    assert (await desk.venue.execution.account()).positions[SAMSUNG] == Decimal(55)


async def test_signal_for_an_unknown_instrument_is_skipped(desk: Desk) -> None:
    event = await desk.signal(Side.BUY, 70_000)
    signal = dataclasses.replace(event.signal, signal_id="other", instrument_id="KRX:999999")
    stranger = msgspec.structs.replace(event, event_id=uuid.uuid4().hex, signal=signal)
    await desk.bus.publish(topics.SIGNALS, stranger)
    await desk.bus.drain()
    await desk.only_order()
    assert desk.service.stats.skipped == {"unknown instrument": 1}
