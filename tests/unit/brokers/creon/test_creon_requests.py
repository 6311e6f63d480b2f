"""Creon requests with a blank required value are refused before the bridge is asked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fakes.creon_venue import INSTRUMENT
from fakes.creon_venue import creon_venue
from jts.brokers.common.requests import IncompleteRequest
from jts.brokers.creon.execution import CreonExecution
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import BrokerUnavailable
from jts.domain.errors import UnknownOrder
from jts.domain.orders import Order


def limit(cid: str) -> Order:
    return Order(
        INSTRUMENT,
        Side.BUY,
        OrderType.LIMIT,
        Decimal(10),
        Decimal(69_000),
        0,
        "creon",
        client_order_id=cid,
    )


def calls(broker: CreonExecution) -> int:
    """Bridge calls reserved on the broker's budget: every call takes one."""
    return broker.guard.budget.usage().used[0]


async def test_a_limit_order_without_a_price_is_refused_unsent(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as h:
        broker = h.execution
        assert isinstance(broker, CreonExecution)
        order = limit("R1")
        order.price = None  # a corrupted order: the domain builds none like it
        before = calls(broker)
        with pytest.raises(IncompleteRequest, match="price") as refused:
            await broker.submit_order(order)
        assert not isinstance(refused.value, BrokerUnavailable)
        assert calls(broker) == before
        assert broker.journal.get("R1") is None  # never journalled: it was never sent
        assert h.venue_order_count() == 0


async def test_a_cancel_with_a_blank_order_number_is_refused_unsent(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as h:
        broker = h.execution
        assert isinstance(broker, CreonExecution)
        order = limit("R2")
        order.venue_order_id = ""
        before = calls(broker)
        with pytest.raises(UnknownOrder, match="no Creon order number"):
            await broker.cancel_order(order)
        assert calls(broker) == before


async def test_a_modify_without_an_order_number_is_refused_unsent(tmp_path: Path) -> None:
    async with creon_venue(tmp_path) as h:
        broker = h.execution
        assert isinstance(broker, CreonExecution)
        order = limit("R3")
        order.transition(OrderStatus.SUBMITTED, 1)
        order.transition(OrderStatus.ACCEPTED, 1)
        order.venue_order_id = ""
        before = calls(broker)
        with pytest.raises(UnknownOrder, match="no Creon order number"):
            await broker.modify_order(order, price=Decimal(68_900))
        with pytest.raises(UnknownOrder, match="no Creon order number"):
            await broker.modify_order(order, quantity=Decimal(5))
        assert calls(broker) == before
