"""Orders that spend a cash amount: only market buys, done with their first execution."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from jts.core.codec import decode_event
from jts.core.codec import encode_event
from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import InvalidOrder
from jts.domain.errors import InvalidStateTransition
from jts.domain.events import OrderPending
from jts.domain.fills import Fill
from jts.domain.orders import Order


def spend(cash: str = "10000", estimate: str = "50") -> Order:
    return Order(
        "RESEARCH:GOOG",
        Side.BUY,
        OrderType.MARKET,
        Decimal(estimate),
        None,
        1,
        "paper",
        quote_quantity=Decimal(cash),
    )


def fill_of(order: Order, quantity: str, fill_id: str = "F1") -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        side=order.side,
        quantity=Decimal(quantity),
        price=Decimal("186.31"),
        commission=Decimal(0),
        tax=Decimal(0),
        ts=5,
        liquidity=LiquiditySide.TAKER,
    )


@pytest.mark.parametrize(
    ("side", "order_type", "price"),
    [(Side.SELL, OrderType.MARKET, None), (Side.BUY, OrderType.LIMIT, Decimal(100))],
)
def test_only_a_market_buy_can_spend_a_cash_amount(
    side: Side, order_type: OrderType, price: Decimal | None
) -> None:
    with pytest.raises(InvalidOrder, match="only a market BUY can spend a cash amount"):
        Order("X:Y", side, order_type, Decimal(1), price, 1, "paper", quote_quantity=Decimal(10))
    with pytest.raises(InvalidOrder, match="quote quantity must be positive"):
        spend(cash="0")


def test_the_first_fill_fixes_the_quantity_and_completes_the_order() -> None:
    order = spend(estimate="50")
    order.transition(OrderStatus.SUBMITTED, 2)
    order.transition(OrderStatus.ACCEPTED, 3)
    # More than the sizing-time estimate: the venue bought at a lower open.
    previous = order.apply_fill(fill_of(order, "53.67398422"))
    assert previous is OrderStatus.ACCEPTED
    assert order.status is OrderStatus.FILLED
    assert order.quantity == order.filled_quantity == Decimal("53.67398422")
    assert order.avg_fill_price == Decimal("186.31")
    # A replayed fill finds nothing left to fill.
    with pytest.raises(InvalidOrder, match="exceeds remaining 0"):
        order.apply_fill(fill_of(order, "53.67398422"))


def test_an_unsent_order_takes_no_fill_and_keeps_its_estimate() -> None:
    order = spend(estimate="50")
    with pytest.raises(InvalidStateTransition):
        order.apply_fill(fill_of(order, "53"))
    assert (order.quantity, order.filled_quantity, order.status) == (
        Decimal(50),
        Decimal(0),
        OrderStatus.NEW,
    )


def test_it_cannot_be_modified() -> None:
    order = spend()
    order.transition(OrderStatus.SUBMITTED, 2)
    with pytest.raises(InvalidOrder, match="spends a cash amount cannot be modified"):
        order.check_amendment(None, Decimal(10))


def test_the_pending_event_carries_the_cash_amount() -> None:
    order = spend(cash="9999.5")
    event = OrderPending.from_order(order, ts=2, source="test")
    again = decode_event(encode_event(event))
    assert isinstance(again, OrderPending)
    assert again.to_order().quote_quantity == Decimal("9999.5")
    # Events written before the field existed read as orders by quantity.
    legacy = json.loads(encode_event(event))
    del legacy["quote_quantity"]
    old = decode_event(json.dumps(legacy).encode())
    assert isinstance(old, OrderPending)
    assert old.to_order().quote_quantity is None
