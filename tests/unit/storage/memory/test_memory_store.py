"""What only the in-memory store has: the clock that stamps its outbox, a close that keeps it."""

from __future__ import annotations

from jts.core import topics
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.ports import OutboxMessage
from jts.storage.memory import MemoryStore
from repository_samples import make_order


async def test_outbox_rows_are_stamped_by_the_given_clock() -> None:
    ticks = iter([1_000, 2_000])
    store = MemoryStore(wall_ns=lambda: next(ticks))
    for _ in range(2):
        order = make_order()
        event = OrderPending.from_order(order, ts=1, source="test")
        await store.orders.add(order, outbox=[OutboxMessage(topics.ORDERS_PENDING, event)])
    assert [m.created_ts for m in await store.outbox.pending()] == [1_000, 2_000]


async def test_a_store_is_its_own_and_close_keeps_it_usable() -> None:
    first, second = MemoryStore(), MemoryStore()
    order = make_order()
    await first.orders.add(order)
    assert await second.orders.get(order.order_id) is None
    await first.close()
    assert await first.orders.get(order.order_id) == order


async def test_without_keep_published_a_marked_row_is_gone_and_the_rest_stay() -> None:
    store = MemoryStore(keep_published=False)
    order = make_order()
    # Two distinct events of one order (a pending order's id derives from its client id).
    first = OutboxMessage(topics.ORDERS_PENDING, OrderPending.from_order(order, ts=1, source="t"))
    second = OutboxMessage(
        topics.ORDERS_EVENTS, OrderStatusChanged.from_order(order, None, ts=2, source="t")
    )
    await store.orders.add(order, outbox=[first, second])

    assert await store.outbox.mark_published([first.event.event_id], ts=100) == 1
    assert await store.outbox.mark_published([first.event.event_id], ts=200) == 0
    assert [p.message for p in await store.outbox.pending()] == [second]
    # Nothing published is left to purge: the row went when it was marked.
    assert await store.outbox.purge_published(before_ts=10**18) == 0
    assert [p.message for p in await store.outbox.pending()] == [second]
