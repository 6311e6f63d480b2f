"""What a modify may change: the rules every venue shares, checked before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import InvalidOrder
from jts.domain.fills import Fill
from jts.domain.orders import Order

D = Decimal


def working(order_type: OrderType = OrderType.LIMIT) -> Order:
    price = D(70_000) if order_type is OrderType.LIMIT else None
    order = Order("KRX:005930", Side.BUY, order_type, D(10), price, 1, "paper")
    order.transition(OrderStatus.SUBMITTED, 2)
    order.transition(OrderStatus.ACCEPTED, 3)
    return order


def fill(order: Order, quantity: int) -> Fill:
    return Fill(
        "f1",
        order.order_id,
        order.client_order_id,
        order.instrument_id,
        order.side,
        D(quantity),
        D(70_000),
        D(0),
        D(0),
        4,
    )


@pytest.mark.parametrize(
    ("price", "quantity", "why"),
    [
        (None, None, "needs a new price or quantity"),
        (D(0), None, "must be positive"),
        (None, D(11), "not raise it to 11"),
        (D(70_000), D(10), "changes nothing"),
        (D(70_000), None, "changes nothing"),
    ],
)
def test_a_change_no_venue_makes_is_refused(
    price: Decimal | None, quantity: Decimal | None, why: str
) -> None:
    order = working()
    with pytest.raises(InvalidOrder, match=why):
        order.check_amendment(price, quantity)


def test_a_market_order_has_no_price_to_change() -> None:
    with pytest.raises(InvalidOrder, match="only a limit order"):
        working(OrderType.MARKET).check_amendment(D(70_100), None)


def test_the_quantity_stays_above_what_is_filled() -> None:
    order = working()
    order.apply_fill(fill(order, 4))
    with pytest.raises(InvalidOrder, match="already filled"):
        order.check_amendment(None, D(4))
    order.amend(D(69_900), D(5), 9)
    assert (order.price, order.quantity, order.leaves_quantity) == (69_900, 5, 1)
    assert (order.status, order.updated_ts) == (OrderStatus.PARTIALLY_FILLED, 9)


def test_a_finished_order_cannot_be_modified() -> None:
    order = working()
    order.transition(OrderStatus.CANCELED, 5)
    with pytest.raises(InvalidOrder, match="CANCELED"):
        order.check_amendment(D(69_900), None)
