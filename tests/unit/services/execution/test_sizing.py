"""Sizing: a signal becomes a quantity on the lot grid and a limit price on the tick grid."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.instruments import Instrument
from jts.domain.instruments import crypto_pair
from jts.domain.instruments import krx_stock
from jts.domain.signals import Signal
from jts.domain.timestamps import KST
from jts.domain.timestamps import dt_to_ns
from jts.services.execution import SizingConfig
from jts.services.execution import client_order_id_for
from jts.services.execution.sizing import OrderPlan
from jts.services.execution.sizing import plan_order
from jts.services.execution.sizing import sellable_quantity

SAMSUNG = krx_stock("005930", "Samsung Electronics")
BTC = crypto_pair("UPBIT", "KRW-BTC", "KRW", "1000", "0.0001", 0)
PLENTY = Decimal(1_000_000_000)


# 2026-03-03 10:00 KST: sizing goes by the tick ladder of the signal's day.
TODAY = dt_to_ns(datetime(2026, 3, 3, 10, tzinfo=KST))


def signal(side: Side, price: str, instrument_id: str = SAMSUNG.key, ts: int = TODAY) -> Signal:
    return Signal("s1", instrument_id, side, ts, Decimal(price), signal_id="sig-1")


def plan(
    side: Side,
    price: str,
    *,
    config: SizingConfig | None = None,
    cash: Decimal = PLENTY,
    sellable: Decimal = Decimal(0),
    instrument: Instrument = SAMSUNG,
) -> OrderPlan | str:
    return plan_order(
        signal(side, price, instrument.key),
        instrument,
        config or SizingConfig(),
        available_cash=cash,
        sellable=sellable,
    )


@pytest.mark.parametrize(
    ("side", "signal_price", "offset", "expected"),
    [
        # On the grid: one tick (100 KRW in 50,000-200,000) in the aggressive direction.
        (Side.BUY, "70000", 1, "70100"),
        (Side.SELL, "70000", 1, "69900"),
        # Off the grid: snapped away from the market first, then moved.
        (Side.BUY, "70050", 1, "70100"),
        (Side.SELL, "70050", 1, "70000"),
        (Side.BUY, "70050", 0, "70000"),
        (Side.SELL, "70050", 0, "70100"),
        # Across a band edge: 49,950 (tick 50) + 1 tick = 50,000; 50,000 - 1 tick = 49,950.
        (Side.BUY, "49950", 1, "50000"),
        (Side.SELL, "50000", 1, "49950"),
        (Side.BUY, "49990", 2, "50100"),
        (Side.SELL, "2000", 1, "1999"),
    ],
)
def test_limit_price_is_on_the_tick_grid(
    side: Side, signal_price: str, offset: int, expected: str
) -> None:
    config = SizingConfig(limit_offset_ticks=offset)
    result = plan(side, signal_price, config=config, sellable=Decimal(10))
    assert isinstance(result, OrderPlan)
    assert result.order_type is OrderType.LIMIT
    assert result.price == Decimal(expected)
    assert result.price is not None and SAMSUNG.tick_rule.is_on_grid(result.price)


@pytest.mark.parametrize(
    ("side", "signal_price", "expected"),
    [
        # 2022: KOSPI ticks of 50 from 10,000 and 500 from 100,000 (10 and 100 since 2023).
        (Side.BUY, "15020", "15050"),
        (Side.SELL, "15020", "15000"),
        (Side.BUY, "150000", "150500"),
    ],
)
def test_limit_price_is_on_the_ladder_of_the_signals_day(
    side: Side, signal_price: str, expected: str
) -> None:
    day_2022 = dt_to_ns(datetime(2022, 6, 2, 10, tzinfo=KST))
    result = plan_order(
        signal(side, signal_price, ts=day_2022),
        SAMSUNG,
        SizingConfig(limit_offset_ticks=1),
        available_cash=PLENTY,
        sellable=Decimal(10),
    )
    assert isinstance(result, OrderPlan) and result.price == Decimal(expected)


def test_buy_quantity_is_the_notional_over_the_limit_price_rounded_down() -> None:
    result = plan(Side.BUY, "70000", config=SizingConfig(notional_per_order=Decimal(10_000_000)))
    assert isinstance(result, OrderPlan)
    # 10,000,000 / 70,100 = 142.65...: a whole share never spends more than the notional.
    assert result.quantity == Decimal(142)
    assert result.price is not None
    assert result.quantity * result.price <= Decimal(10_000_000)


def test_market_order_has_no_price_and_sizes_at_the_signal_price() -> None:
    config = SizingConfig(order_type=OrderType.MARKET, notional_per_order=Decimal(1_000_000))
    result = plan(Side.BUY, "70000", config=config)
    assert result == OrderPlan(quantity=Decimal(14), price=None, order_type=OrderType.MARKET)


def test_crypto_quantity_is_rounded_down_to_the_lot() -> None:
    config = SizingConfig(notional_per_order=Decimal(1_000_000))
    result = plan(Side.BUY, "95000000", config=config, instrument=BTC)
    assert isinstance(result, OrderPlan)
    assert result.price == Decimal(95_001_000)
    # 1,000,000 / 95,001,000 = 0.010526...: four decimals (the 0.0001 lot), rounded down.
    assert result.quantity == Decimal("0.0105")
    assert result.quantity % BTC.lot_size == 0


def test_sell_closes_what_is_held_on_the_lot_grid() -> None:
    assert plan(Side.SELL, "70000", sellable=Decimal(37)) == OrderPlan(
        Decimal(37), Decimal(69_900), OrderType.LIMIT
    )
    crypto = plan(Side.SELL, "95000000", sellable=Decimal("0.01237"), instrument=BTC)
    assert isinstance(crypto, OrderPlan) and crypto.quantity == Decimal("0.0123")


@pytest.mark.parametrize("held", ["0", "0.00005"])
def test_nothing_to_sell(held: str) -> None:
    assert plan(Side.SELL, "95000000", sellable=Decimal(held), instrument=BTC) == (
        "nothing to sell"
    )


def test_nothing_to_sell_on_a_whole_share_grid() -> None:
    assert plan(Side.SELL, "70000", sellable=Decimal(0)) == "nothing to sell"


def test_buy_is_capped_by_a_share_of_available_cash() -> None:
    config = SizingConfig(notional_per_order=Decimal(10_000_000), max_cash_fraction=Decimal("0.5"))
    result = plan(Side.BUY, "70000", config=config, cash=Decimal(2_000_000))
    assert isinstance(result, OrderPlan)
    # Budget min(10M, 0.5 x 2M) = 1,000,000 -> 1,000,000 / 70,100 = 14.26 -> 14.
    assert result.quantity == Decimal(14)


def test_buy_refused_when_cash_cannot_pay_one_lot() -> None:
    result = plan(Side.BUY, "70000", cash=Decimal(50_000))
    assert isinstance(result, str)
    assert "too small" in result and "50000" in result


def test_client_order_id_is_stable_per_signal_and_venue_safe() -> None:
    first = client_order_id_for("signal-a")
    assert first == client_order_id_for("signal-a")
    assert first != client_order_id_for("signal-b")
    assert len(first) <= 32 and first.isalnum() and first.isupper()


@pytest.mark.parametrize(
    ("own", "reserved", "venue", "expected"),
    [
        (142, 0, 142, 142),  # books agree
        (142, 0, 197, 142),  # the venue holds 55 shares someone else bought: not ours to sell
        (142, 100, 197, 42),  # an open sell of ours already reserves 100
        (142, 0, 100, 100),  # the venue holds fewer: it would refuse more
        (0, 0, 55, 0),  # nothing of ours at all
        (10, 20, 55, 0),  # never negative
    ],
)
def test_a_sell_is_sized_from_our_books_never_from_the_venue_alone(
    own: int, reserved: int, venue: int, expected: int
) -> None:
    assert sellable_quantity(Decimal(own), Decimal(reserved), Decimal(venue)) == expected


def test_all_cash_buys_with_a_market_order_for_every_available_won() -> None:
    config = SizingConfig(all_cash=True, notional_per_order=Decimal(1_000_000))
    planned = plan(Side.BUY, "70000", config=config, cash=Decimal(10_000_000))
    # Not capped by notional_per_order or max_cash_fraction; the quantity is the estimate
    # at the signal price, the venue sizes the order at its fill price.
    assert planned == OrderPlan(
        quantity=Decimal(142),
        price=None,
        order_type=OrderType.MARKET,
        quote_quantity=Decimal(10_000_000),
    )
    fractional = plan(Side.BUY, "90000000", config=config, cash=Decimal(1_000_000), instrument=BTC)
    assert isinstance(fractional, OrderPlan) and fractional.quantity == Decimal("0.0111")


def test_all_cash_sells_close_everything_and_small_cash_buys_nothing() -> None:
    config = SizingConfig(all_cash=True)
    assert plan(Side.SELL, "70000", config=config, sellable=Decimal(37)) == OrderPlan(
        quantity=Decimal(37), price=Decimal(69_900), order_type=OrderType.LIMIT
    )
    market = SizingConfig(all_cash=True, order_type=OrderType.MARKET)
    assert plan(Side.SELL, "70000", config=market, sellable=Decimal(37)) == OrderPlan(
        quantity=Decimal(37), price=None, order_type=OrderType.MARKET
    )
    assert plan(Side.BUY, "70000", config=config, cash=Decimal(69_999)) == (
        "cash too small for one lot: 69999 at 70000"
    )
