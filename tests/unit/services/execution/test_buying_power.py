"""Buying power from our own reservations: the venue's acceptance does not move it."""

from __future__ import annotations

from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.services.execution.buying_power import BuyReservations


def _buy(quantity: int, price: int | None, client_order_id: str = "C1") -> Order:
    return Order(
        "KRX:005930",
        Side.BUY,
        OrderType.LIMIT if price is not None else OrderType.MARKET,
        Decimal(quantity),
        None if price is None else Decimal(price),
        1,
        "paper",
        client_order_id=client_order_id,
    )


def _account(cash: int, reserved: Decimal | int = 0) -> AccountState:
    return AccountState("a", "KRW", Decimal(cash), Decimal(reserved))


def test_an_order_counts_the_same_before_and_after_the_venue_accepts_it() -> None:
    ledger = BuyReservations()
    order = _buy(100, 70_000)
    before = ledger.buying_power(_account(20_000_000), [order], Decimal(0))
    # Accepted: the venue now shows it reserved (at its own, smaller fee rate).
    order.transition(OrderStatus.SUBMITTED, 2)
    order.transition(OrderStatus.ACCEPTED, 3)
    after = ledger.buying_power(_account(20_000_000, 7_001_050), [order], Decimal(0))
    # (20,000,000 - 100 x 70,000 x 1.01) / 1.01
    assert before == after == (Decimal(20_000_000) - Decimal(7_070_000)) / Decimal("1.01")


def test_a_partly_filled_buy_reserves_only_what_is_left() -> None:
    ledger = BuyReservations()
    order = _buy(100, 10_000)
    order.filled_quantity = Decimal(60)
    assert ledger.reserved([order], Decimal(0)) == Decimal(40) * 10_000 * Decimal("1.01")


def test_a_market_buy_is_valued_at_its_reference_price_plus_the_buffer() -> None:
    ledger = BuyReservations()
    order = _buy(10, None)
    ledger.sized(order, Decimal(50_000))
    # Another signal's price (the fallback) does not value it once its own is known.
    assert ledger.reserved([order], Decimal(1)) == 10 * Decimal(50_000) * Decimal("1.05") * Decimal(
        "1.01"
    )
    ledger.finished(order.client_order_id)
    assert ledger.reserved([order], Decimal(1)) == 10 * Decimal("1.05") * Decimal("1.01")


def test_cash_reserved_at_the_venue_by_someone_else_is_not_ours() -> None:
    ledger = BuyReservations()
    # Nothing of ours is open, but 15 million of the 20 are reserved by a foreign order.
    assert ledger.buying_power(_account(20_000_000, 15_000_000), [], Decimal(0)) == Decimal(
        5_000_000
    ) / Decimal("1.01")


def test_sells_reserve_no_cash_and_power_is_never_negative() -> None:
    ledger = BuyReservations()
    sell = Order("KRX:005930", Side.SELL, OrderType.LIMIT, Decimal(5), Decimal(1), 1, "paper")
    assert ledger.reserved([sell], Decimal(0)) == 0
    assert ledger.buying_power(_account(100), [_buy(100, 70_000)], Decimal(0)) == 0


def test_a_cash_amount_buy_reserves_its_amount_until_its_fill() -> None:
    ledger = BuyReservations()
    order = Order(
        "RESEARCH:GOOG",
        Side.BUY,
        OrderType.MARKET,
        Decimal(3),  # the estimate made at signal time; the fill decides
        None,
        1,
        "paper",
        client_order_id="C9",
        quote_quantity=Decimal("10000"),
    )
    ledger.sized(order, Decimal(1_000_000))  # its reference must not value it
    assert ledger.reserved([order], Decimal(1)) == Decimal("10000")
    order.filled_quantity = Decimal("8.5")
    assert ledger.reserved([order], Decimal(1)) == 0


def test_a_cash_amount_buy_may_spend_everything_free_since_it_pays_its_own_fees() -> None:
    ledger = BuyReservations()
    account = _account(1_000_000)
    assert ledger.buying_power(account, [], Decimal(0), fees_inside=True) == Decimal(1_000_000)
    assert ledger.buying_power(account, [], Decimal(0)) == Decimal(1_000_000) / Decimal("1.01")
