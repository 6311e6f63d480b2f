"""What only the in-memory store has: the clock that stamps its outbox, a close that keeps it."""

from __future__ import annotations

from jts.core import topics
from jts.domain.events import OrderPending
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
