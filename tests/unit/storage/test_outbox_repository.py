"""The outbox rows written with order state, on every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import time

from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.events import FillEvent
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.ports import OutboxMessage
from repository_samples import Store
from repository_samples import make_fill
from repository_samples import make_order

S = OrderStatus


def status_message(order: object, previous: S | None) -> OutboxMessage:
    event = OrderStatusChanged.from_order(order, previous, ts=1, source="test")  # type: ignore[arg-type]
    return OutboxMessage(topics.ORDERS_EVENTS, event)


def pending_message(order: object) -> OutboxMessage:
    event = OrderPending.from_order(order, ts=2, source="test")  # type: ignore[arg-type]
    return OutboxMessage(topics.ORDERS_PENDING, event)


async def test_events_are_stored_with_the_order_and_read_back_equal(store: Store) -> None:
    order = make_order()
    messages = [
        status_message(order, None),
        OutboxMessage(topics.ORDERS_PENDING, OrderPending.from_order(order, ts=2, source="test")),
    ]
    await store.orders.add(order, outbox=messages)

    pending = await store.outbox.pending()

    assert [p.message for p in pending] == messages
    assert pending[0].seq < pending[1].seq
    assert pending[0].created_ts <= time.time_ns()


async def test_published_rows_leave_the_pending_list_and_can_be_purged(
    store: Store,
) -> None:
    order = make_order()
    first, second = status_message(order, None), pending_message(order)
    await store.orders.add(order, outbox=[first, second])

    assert await store.outbox.mark_published([first.event.event_id], ts=100) == 1
    assert await store.outbox.mark_published([first.event.event_id], ts=200) == 0
    assert [p.message for p in await store.outbox.pending()] == [second]

    assert await store.outbox.purge_published(before_ts=100) == 0
    assert await store.outbox.purge_published(before_ts=101) == 1
    assert [p.message for p in await store.outbox.pending()] == [second]


async def test_a_replayed_fill_writes_no_events(store: Store) -> None:
    order = make_order()
    await store.orders.add(order)
    for step, target in enumerate((S.SUBMITTED, S.ACCEPTED), start=1):
        previous = order.transition(target, order.created_ts + step)
        await store.orders.save_transition(order, previous)
    fill = make_fill(order, "F-1", "4", "70100", order.created_ts + 10)
    previous = order.apply_fill(fill)
    fill_message = OutboxMessage(topics.FILLS, FillEvent.from_fill(fill, ts=3, source="test"))
    assert await store.orders.save_transition(order, previous, fill=fill, outbox=[fill_message])

    again = OutboxMessage(topics.FILLS, FillEvent.from_fill(fill, ts=4, source="test"))
    stored = await store.orders.get(order.order_id)
    assert stored is not None
    replay_previous = stored.apply_fill(fill)
    recorded = await store.orders.save_transition(
        stored, replay_previous, fill=fill, outbox=[again]
    )

    assert recorded is False
    assert [p.message for p in await store.outbox.pending()] == [fill_message]


async def test_pending_is_oldest_first_across_writes_and_marks_count_each_row_once(
    store: Store,
) -> None:
    order = make_order()
    first, second = status_message(order, None), pending_message(order)
    await store.orders.add(order, outbox=[first, second])
    previous = order.transition(S.SUBMITTED, order.created_ts + 1)
    third = status_message(order, previous)
    assert await store.orders.save_transition(order, previous, outbox=[third])

    assert [p.message for p in await store.outbox.pending(limit=2)] == [first, second]
    assert await store.outbox.pending(limit=0) == []
    assert await store.outbox.mark_published([], ts=50) == 0
    assert await store.outbox.mark_published(["no-such-event"], ts=50) == 0
    ids = [second.event.event_id, second.event.event_id, third.event.event_id]
    assert await store.outbox.mark_published(ids, ts=50) == 2
    assert [p.message for p in await store.outbox.pending()] == [first]

    # Purging drops only rows published before the time, never a pending one.
    assert await store.outbox.purge_published(before_ts=1_000) == 2
    assert await store.outbox.purge_published(before_ts=1_000) == 0
    assert [p.message for p in await store.outbox.pending()] == [first]
    assert await store.outbox.mark_published([first.event.event_id], ts=60) == 1
    assert await store.outbox.pending() == []
