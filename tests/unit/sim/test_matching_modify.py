"""MatchingEngine.modify: a reprice is a new order at the venue, a lower quantity is not.

KRX treats a price change as cancel-and-replace (a new order number, the back
of the queue, checked again) and a quantity cut as an edit in place. Whatever
it refuses must leave the order and what it set aside exactly as they were.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import InvalidOrder
from jts.domain.errors import UnknownOrder
from jts.domain.reports import MODIFIED_ON_REQUEST

DAY = "2026-03-03"
SAMSUNG = "KRX:005930"


def test_a_reprice_is_a_new_order_at_the_back_of_the_queue(harness) -> None:
    k = harness.kst
    first = harness.submit(
        harness.order(Side.BUY, 10, 69_900, client_order_id="A"), k(DAY, "10:00")
    )
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="B"), k(DAY, "10:01"))
    [answer] = harness.engine.modify("A", k(DAY, "10:02"), price=Decimal(70_000))
    assert answer.status is OrderStatus.ACCEPTED
    assert answer.reason == MODIFIED_ON_REQUEST
    assert (answer.price, answer.quantity) == (Decimal(70_000), Decimal(10))
    assert answer.venue_order_id not in (None, first.venue_order_id)
    assert harness.engine.order("A").venue_order_id == answer.venue_order_id
    # A bar with room for 10 shares: B, now ahead in the queue, takes them all.
    reports = harness.bar(k(DAY, "10:02"), 70_000, 70_000, 70_000, 70_000, volume=100)
    assert [(r.client_order_id, r.status) for r in reports] == [("B", OrderStatus.FILLED)]
    assert harness.engine.order("A").status is OrderStatus.ACCEPTED


def test_a_repriced_order_meets_only_data_from_the_modify_on(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 69_900, client_order_id="A"), k(DAY, "10:00"))
    harness.engine.modify("A", k(DAY, "10:05"), price=Decimal(70_000))
    # A late bar from 10:04 would have filled the old order; the new one was not there.
    assert harness.bar(k(DAY, "10:04"), 69_800, 69_800, 69_800, 69_800) == []
    [fill] = harness.bar(k(DAY, "10:05"), 69_800, 69_800, 69_800, 69_800)
    assert fill.status is OrderStatus.FILLED and fill.fill is not None
    assert fill.fill.price == Decimal(69_800)


def test_a_lower_quantity_keeps_the_number_and_the_place(harness) -> None:
    k = harness.kst
    accepted = harness.submit(
        harness.order(Side.BUY, 10, 70_000, client_order_id="A"), k(DAY, "10:00")
    )
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="B"), k(DAY, "10:00"))
    [answer] = harness.engine.modify("A", k(DAY, "10:01"), quantity=Decimal(6))
    assert answer.venue_order_id == accepted.venue_order_id
    assert (answer.price, answer.quantity) == (Decimal(70_000), Decimal(6))
    # Room for 6 shares: A is still first and takes them; B waits.
    reports = harness.bar(k(DAY, "10:01"), 70_000, 70_000, 70_000, 70_000, volume=60)
    assert [(r.client_order_id, r.status) for r in reports] == [("A", OrderStatus.FILLED)]
    assert reports[0].fill is not None and reports[0].fill.quantity == 6
    assert harness.engine.order("B").filled_quantity == 0


def test_a_buy_reservation_follows_the_new_terms(harness) -> None:
    k = harness.kst
    account = harness.account
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="A"), k(DAY, "10:00"))
    # price x quantity + 0.015% commission, rounded up to the won
    assert account.reserved_cash == Decimal(700_105)
    harness.engine.modify("A", k(DAY, "10:01"), quantity=Decimal(6))
    assert account.reserved_cash == Decimal(420_063)
    harness.engine.modify("A", k(DAY, "10:02"), price=Decimal(69_000))
    assert account.reserved_cash == Decimal(414_063)  # 414,000 + 62.1
    harness.engine.modify("A", k(DAY, "10:03"), price=Decimal(71_000), quantity=Decimal(5))
    assert account.reserved_cash == Decimal(355_054)  # 355,000 + 53.25
    assert account.cash == harness.start_cash


def test_a_partly_filled_buy_reserves_for_what_is_left_only(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="A"), k(DAY, "10:00"))
    harness.bar(k(DAY, "10:00"), 70_000, 70_000, 70_000, 70_000, volume=40)
    assert harness.engine.order("A").filled_quantity == 4
    [answer] = harness.engine.modify("A", k(DAY, "10:01"), price=Decimal(69_000))
    assert answer.status is OrderStatus.PARTIALLY_FILLED
    assert (answer.price, answer.quantity) == (Decimal(69_000), Decimal(10))
    assert harness.account.reserved_cash == Decimal(414_063)  # 6 left at 69,000
    with pytest.raises(InvalidOrder, match="already filled"):
        harness.engine.modify("A", k(DAY, "10:02"), quantity=Decimal(4))
    harness.engine.modify("A", k(DAY, "10:02"), quantity=Decimal(7))
    assert harness.account.reserved_cash == Decimal(207_032)  # 3 left: 207,000 + 31.05


def test_a_lower_sell_quantity_releases_the_shares(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 70_000), k(DAY, "10:00"))
    harness.bar(k(DAY, "10:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.SELL, 10, 71_000, client_order_id="S"), k(DAY, "10:01"))
    assert harness.account.available_quantity(SAMSUNG) == 0
    harness.engine.modify("S", k(DAY, "10:02"), quantity=Decimal(4))
    assert harness.account.reserved_quantity(SAMSUNG) == 4
    assert harness.account.available_quantity(SAMSUNG) == 6
    # A reprice moves no shares.
    harness.engine.modify("S", k(DAY, "10:03"), price=Decimal(72_000))
    assert harness.account.reserved_quantity(SAMSUNG) == 4


def _state(harness, cid: str) -> tuple[object, ...]:
    order = harness.engine.order(cid)
    return (
        order.price,
        order.quantity,
        order.venue_order_id,
        order.status,
        harness.account.reserved_cash,
        harness.account.reserved_quantity(SAMSUNG),
        harness.account.available_cash,
    )


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"price": Decimal(70_050)}, "nearest valid 70,000 below"),
        ({"price": Decimal(91_100)}, "above the daily upper limit 91,000"),
        ({"price": Decimal(48_900)}, "below the daily lower limit 49,000"),
        ({"quantity": Decimal(11)}, "not raise it"),
        ({"price": Decimal(70_000), "quantity": Decimal(10)}, "changes nothing"),
        ({}, "needs a new price or quantity"),
    ],
)
def test_a_refused_modify_leaves_order_and_reservation_untouched(
    harness, change: dict[str, Decimal], refusal: str
) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="A"), k(DAY, "10:00"))
    before = _state(harness, "A")
    with pytest.raises(InvalidOrder, match=refusal):
        harness.engine.modify("A", k(DAY, "10:01"), **change)
    assert _state(harness, "A") == before


def test_a_reprice_the_cash_cannot_cover_is_refused_and_the_reservation_kept(
    make_harness,
) -> None:
    harness = make_harness(cash=Decimal(700_105))
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="A"), k(DAY, "10:00"))
    before = _state(harness, "A")
    with pytest.raises(InvalidOrder, match="insufficient cash: order needs 710,107 KRW"):
        harness.engine.modify("A", k(DAY, "10:01"), price=Decimal(71_000))
    assert _state(harness, "A") == before
    assert harness.account.available_cash == 0


def test_a_closed_or_unknown_order_cannot_be_modified(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 70_000, client_order_id="A"), k(DAY, "10:00"))
    harness.engine.cancel("A", k(DAY, "10:01"))
    with pytest.raises(InvalidOrder, match="CANCELED"):
        harness.engine.modify("A", k(DAY, "10:02"), price=Decimal(69_000))
    with pytest.raises(UnknownOrder):
        harness.engine.modify("nobody", k(DAY, "10:02"), price=Decimal(69_000))


def test_a_market_order_keeps_its_price_but_can_be_cut(harness) -> None:
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10, client_order_id="M"), k(DAY, "09:01"))
    with pytest.raises(InvalidOrder, match="only a limit order"):
        harness.engine.modify("M", k(DAY, "09:01"), price=Decimal(70_000))
    [answer] = harness.engine.modify("M", k(DAY, "09:01"), quantity=Decimal(3))
    assert (answer.price, answer.quantity) == (None, Decimal(3))
