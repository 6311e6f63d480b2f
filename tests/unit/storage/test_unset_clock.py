"""No order or fill is stored at the epoch: a time of 0 is a clock that was never set."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import StorageError
from jts.domain.orders import Order
from repository_samples import Store

T0 = 1_772_500_000_000_000_000


def an_order(ts: int) -> Order:
    return Order("KRX:005930", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(70_000), ts, "paper")


async def test_an_order_created_at_zero_is_refused(store: Store) -> None:
    with pytest.raises(StorageError, match="clock"):
        await store.orders.add(an_order(0))
    assert await store.orders.list() == []


async def test_a_transition_stamped_zero_is_refused(store: Store) -> None:
    order = an_order(T0)
    await store.orders.add(order)
    previous = order.transition(OrderStatus.SUBMITTED, T0 + 1)
    order.updated_ts = 0  # what a reconciliation on an unset clock used to write
    with pytest.raises(StorageError, match="clock"):
        await store.orders.save_transition(order, previous)
    stored = await store.orders.get(order.order_id)
    assert stored is not None and stored.status is OrderStatus.NEW
