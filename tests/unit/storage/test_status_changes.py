"""``save_transitions``: a batch's venue answers stored in one transaction, on every store."""

from __future__ import annotations

from copy import copy

import pytest

from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.errors import StorageError
from jts.domain.events import OrderStatusChanged
from jts.domain.orders import Order
from jts.ports import OutboxMessage
from jts.ports import StatusChange
from repository_samples import T0
from repository_samples import Store
from repository_samples import make_order

S = OrderStatus


async def submitted(store: Store, instrument_id: str) -> Order:
    order = make_order(instrument_id=instrument_id)
    await store.orders.add(order)
    assert await store.orders.save_transition(order, order.transition(S.SUBMITTED, T0 + 1))
    return order


def change(order: Order, status: OrderStatus, ts: int, reason: str | None = None) -> StatusChange:
    previous = order.transition(status, ts, reason)
    event = OrderStatusChanged.from_order(order, previous, ts=ts, source="test")
    return StatusChange(copy(order), previous, reason, [OutboxMessage(topics.ORDERS_EVENTS, event)])


async def test_the_changes_are_stored_with_their_audit_entries_and_events(store: Store) -> None:
    first = await submitted(store, "KRX:005930")
    second = await submitted(store, "KRX:000660")
    first.venue_order_id = "V-1"
    changes = [
        change(first, S.ACCEPTED, T0 + 5),
        change(second, S.REJECTED, T0 + 6, "no cash"),
        # The same order twice: the second change is checked against the first one's status.
        change(first, S.EXPIRED, T0 + 7, "session over"),
    ]

    await store.orders.save_transitions(changes)

    assert await store.orders.get(first.order_id) == first
    assert await store.orders.get(second.order_id) == second
    assert await store.orders.audit_trail(first.order_id) == [
        (None, S.NEW, T0),
        (S.NEW, S.SUBMITTED, T0 + 1),
        (S.SUBMITTED, S.ACCEPTED, T0 + 5),
        (S.ACCEPTED, S.EXPIRED, T0 + 7),
    ]
    assert (await store.orders.audit_trail(second.order_id))[-1] == (
        S.SUBMITTED,
        S.REJECTED,
        T0 + 6,
    )
    stored = [p.message for p in await store.outbox.pending()]
    assert stored == [message for c in changes for message in c.outbox]


async def test_one_stale_order_writes_nothing_of_the_batch(store: Store) -> None:
    fine = await submitted(store, "KRX:005930")
    stale = await submitted(store, "KRX:000660")
    behind = copy(stale)
    assert await store.orders.save_transition(stale, stale.transition(S.ACCEPTED, T0 + 2))
    changes = [change(fine, S.ACCEPTED, T0 + 5), change(behind, S.ACCEPTED, T0 + 6)]

    with pytest.raises(StorageError, match="refused"):
        await store.orders.save_transitions(changes)

    assert (await store.orders.get(fine.order_id)).status is S.SUBMITTED  # type: ignore[union-attr]
    assert len(await store.orders.audit_trail(fine.order_id)) == 2
    assert await store.outbox.pending() == []


async def test_an_empty_batch_writes_nothing(store: Store) -> None:
    await store.orders.save_transitions([])

    assert await store.outbox.pending() == []
