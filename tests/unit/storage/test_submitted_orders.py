"""``add_submitted``: a batch of orders about to be sent, one transaction, on every store."""

from __future__ import annotations

import pytest

from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.errors import DuplicateOrder
from jts.domain.errors import StorageError
from jts.domain.events import OrderStatusChanged
from jts.domain.orders import Order
from jts.ports import OutboxMessage
from repository_samples import T0
from repository_samples import Store
from repository_samples import make_order

S = OrderStatus


def submitted(instrument_id: str, step: int = 5) -> tuple[Order, list[OutboxMessage]]:
    """An order sized NEW and moved to SUBMITTED ``step`` ns later, with its two events."""
    order = make_order(instrument_id=instrument_id)
    created = OrderStatusChanged.from_order(order, None, ts=1, source="test")
    previous = order.transition(S.SUBMITTED, order.created_ts + step)
    moved = OrderStatusChanged.from_order(order, previous, ts=2, source="test")
    return order, [
        OutboxMessage(topics.ORDERS_EVENTS, created),
        OutboxMessage(topics.ORDERS_EVENTS, moved),
    ]


async def test_a_batch_is_stored_submitted_with_both_audit_entries_and_its_events(
    store: Store,
) -> None:
    batch = [submitted("KRX:005930", 5), submitted("KRX:000660", 7)]

    await store.orders.add_submitted(batch)

    for order, _ in batch:
        assert await store.orders.get(order.order_id) == order
        assert await store.orders.audit_trail(order.order_id) == [
            (None, S.NEW, T0),
            (S.NEW, S.SUBMITTED, order.updated_ts),
        ]
    stored = [p.message for p in await store.outbox.pending()]
    assert stored == [message for _, messages in batch for message in messages]
    assert {o.order_id for o in await store.orders.list(statuses=[S.SUBMITTED])} == {
        order.order_id for order, _ in batch
    }


async def test_one_taken_client_order_id_writes_nothing_of_the_batch(store: Store) -> None:
    taken = make_order(instrument_id="KRX:000660")
    await store.orders.add(taken)
    fresh, messages = submitted("KRX:005930")
    again = make_order(instrument_id="KRX:000660")
    again.client_order_id = taken.client_order_id
    again.transition(S.SUBMITTED, T0 + 1)

    with pytest.raises(DuplicateOrder, match=taken.client_order_id):
        await store.orders.add_submitted([(fresh, messages), (again, [])])

    assert await store.orders.get(fresh.order_id) is None
    assert await store.orders.get_by_client_id(fresh.client_order_id) is None
    assert await store.outbox.pending() == []
    assert await store.orders.audit_trail(taken.order_id) == [(None, S.NEW, T0)]


async def test_the_same_client_order_id_twice_in_a_batch_is_a_duplicate(store: Store) -> None:
    first = submitted("KRX:005930")

    with pytest.raises(DuplicateOrder):
        await store.orders.add_submitted([first, first])

    assert await store.orders.list() == []


async def test_an_order_that_is_not_submitted_is_refused_and_nothing_is_written(
    store: Store,
) -> None:
    fine = submitted("KRX:005930")
    new = make_order(instrument_id="KRX:000660")

    with pytest.raises(StorageError, match="refused: it is NEW"):
        await store.orders.add_submitted([fine, (new, [])])

    assert await store.orders.list() == []
    assert await store.outbox.pending() == []


async def test_an_empty_batch_writes_nothing(store: Store) -> None:
    await store.orders.add_submitted([])

    assert await store.orders.list() == []
