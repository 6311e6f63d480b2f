"""The order state machine over every pair of states.

The allowed moves are written out here from the lifecycle in ``jts.domain.orders``'s
docstring, not read from its table, so a move added or dropped there by mistake fails.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import InvalidOrder
from jts.domain.errors import InvalidStateTransition
from jts.domain.fills import Fill
from jts.domain.orders import Order

S = OrderStatus
# What a sent order can turn out to be, as the venue reports it.
OUTCOMES = {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.UNKNOWN}
ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    # Not sent yet: it goes out, is refused before sending, or is dropped.
    S.NEW: {S.SUBMITTED, S.REJECTED, S.CANCELED},
    S.SUBMITTED: {S.ACCEPTED, S.REJECTED, *OUTCOMES},
    S.ACCEPTED: OUTCOMES,
    # A partly filled order fills further (PARTIALLY_FILLED again), ends or becomes unknown.
    S.PARTIALLY_FILLED: OUTCOMES,
    # Unknown is resolved by asking the venue: whatever it says, except unknown again.
    S.UNKNOWN: {S.ACCEPTED, S.REJECTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED},
    S.FILLED: set(),
    S.CANCELED: set(),
    S.REJECTED: set(),
    S.EXPIRED: set(),
}
PAIRS = list(product(OrderStatus, OrderStatus))


def order_in(status: OrderStatus) -> Order:
    order = Order("KRX:005930", Side.BUY, OrderType.LIMIT, Decimal(10), Decimal(70_000), 1, "paper")
    order.status = status
    return order


def test_every_state_is_covered() -> None:
    assert set(ALLOWED) == set(OrderStatus)
    assert {s for s in OrderStatus if not ALLOWED[s]} == {s for s in OrderStatus if s.is_terminal}


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p[1] in ALLOWED[p[0]]])
def test_an_allowed_move_changes_status_time_and_reason(
    current: OrderStatus, target: OrderStatus
) -> None:
    order = order_in(current)
    assert order.can_transition(target)
    assert order.transition(target, 2, "why") is current
    assert (order.status, order.updated_ts, order.reason) == (target, 2, "why")


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p[1] not in ALLOWED[p[0]]])
def test_every_other_move_raises_and_changes_nothing(
    current: OrderStatus, target: OrderStatus
) -> None:
    order = order_in(current)
    assert not order.can_transition(target)
    with pytest.raises(InvalidStateTransition) as raised:
        order.transition(target, 2, "why")
    assert (raised.value.current, raised.value.target) == (current.value, target.value)
    assert (order.status, order.updated_ts, order.reason) == (current, 1, None)


def fill(quantity: int, price: int) -> Fill:
    return Fill(
        "F",
        "O",
        "C",
        "KRX:005930",
        Side.BUY,
        Decimal(quantity),
        Decimal(price),
        Decimal(0),
        Decimal(0),
        5,
        LiquiditySide.TAKER,
    )


def test_fills_move_an_accepted_order_to_partly_then_fully_filled() -> None:
    order = order_in(S.ACCEPTED)
    assert order.apply_fill(fill(4, 70_000)) is S.ACCEPTED
    assert (order.status, order.filled_quantity, order.leaves_quantity) == (
        S.PARTIALLY_FILLED,
        4,
        6,
    )
    assert order.apply_fill(fill(6, 69_900)) is S.PARTIALLY_FILLED
    assert (order.status, order.filled_quantity, order.avg_fill_price) == (
        S.FILLED,
        10,
        Decimal(69_940),
    )


def test_a_fill_beyond_the_order_or_of_a_finished_order_is_refused_and_not_counted() -> None:
    order = order_in(S.ACCEPTED)
    with pytest.raises(InvalidOrder, match="exceeds remaining 10"):
        order.apply_fill(fill(11, 70_000))
    assert order.filled_quantity == 0
    canceled = order_in(S.CANCELED)
    with pytest.raises(InvalidStateTransition):
        canceled.apply_fill(fill(1, 70_000))
    # Nothing was counted for the refused fill.
    assert (canceled.filled_quantity, canceled.avg_fill_price) == (0, None)


def test_a_copy_has_every_field_and_is_its_own_object() -> None:
    import dataclasses
    from copy import copy

    from jts.domain.enums import TimeInForce

    order = Order(
        instrument_id="KRX:005930",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(7),
        price=None,
        created_ts=5,
        broker="KRX",
        strategy_id="s",
        signal_id="g",
        time_in_force=TimeInForce.IOC,
        order_id="o",
        client_order_id="c",
        status=OrderStatus.ACCEPTED,
        filled_quantity=Decimal(2),
        avg_fill_price=Decimal(3),
        venue_order_id="v",
        reason="r",
        updated_ts=9,
        quote_quantity=Decimal(100),
    )
    clone = copy(order)
    assert clone is not order
    # Every field, by name: a field added to Order and left out of __copy__ fails here.
    for name in (f.name for f in dataclasses.fields(Order)):
        assert getattr(clone, name) == getattr(order, name), name
    clone.status = OrderStatus.FILLED
    assert order.status is OrderStatus.ACCEPTED
