from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jts.domain.enums import Market
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.instruments import krx_stock
from jts.domain.orders import Order
from jts.domain.timestamps import dt_to_ns
from jts.sim import rules

STOCK = krx_stock("005930", "Samsung Electronics")
KONEX = krx_stock("199800", "Konex stock", Market.KONEX)


def limit(price: str, qty: str = "1") -> Order:
    return Order(STOCK.key, Side.BUY, OrderType.LIMIT, Decimal(qty), Decimal(price), 0, "paper")


def at_seoul(y: int, m: int, d: int, hh: int, mm: int, ss: int = 0) -> int:
    return dt_to_ns(datetime(y, m, d, hh, mm, ss, tzinfo=ZoneInfo("Asia/Seoul")))


@pytest.mark.parametrize(
    "price",
    [
        "1995",
        "1999",
        "2000",
        "2005",
        "4995",
        "5000",
        "19990",
        "20000",
        "70000",
        "199900",
        "200000",
        "500000",
        "501000",
    ],
)
def test_prices_on_the_krx_grid_pass(price: str) -> None:
    assert rules.tick_problem(Decimal(price), STOCK) is None


@pytest.mark.parametrize(
    ("price", "tick", "down", "up"),
    [
        ("2001", "5", "2,000", "2,005"),
        ("2003", "5", "2,000", "2,005"),
        ("4997", "5", "4,995", "5,000"),
        ("5005", "10", "5,000", "5,010"),
        ("70050", "100", "70,000", "70,100"),
        ("200100", "500", "200,000", "200,500"),
        ("500500", "1,000", "500,000", "501,000"),
    ],
)
def test_prices_off_the_grid_are_refused_with_the_nearest_valid_prices(
    price: str, tick: str, down: str, up: str
) -> None:
    problem = rules.tick_problem(Decimal(price), STOCK)
    shown = f"{Decimal(price):,}"
    assert problem is not None
    assert problem.startswith(f"price {shown} KRW is not on the tick ladder (ticks of {tick} KRW")
    assert problem.endswith(f": nearest valid {down} below, {up} above")


def test_the_engine_checks_the_ladder_of_the_orders_day(xkrx) -> None:
    """15,010 was off the KOSPI ladder before 2023-01-25 (ticks of 50 from 10,000)."""
    order = limit("15010")
    ts_2022 = at_seoul(2022, 6, 2, 10, 0)
    problem = rules.static_problem(order, STOCK, ts_2022, xkrx, Decimal(15_000))
    assert problem is not None and "nearest valid 15,000 below, 15,050 above" in problem
    ts_2026 = at_seoul(2026, 3, 3, 10, 0)
    assert rules.static_problem(order, STOCK, ts_2026, xkrx, Decimal(15_000)) is None


def test_tick_rounding_across_band_edges() -> None:
    grid = STOCK.tick_rule
    assert grid.shift(Decimal(1995), 5) == Decimal(2000)
    assert grid.shift(Decimal(2000), 1) == Decimal(2005)
    assert grid.shift(Decimal(2000), -1) == Decimal(1999)
    assert grid.round_up(Decimal("1999.5")) == Decimal(2000)
    assert grid.round_up(Decimal(4996)) == Decimal(5000)
    assert grid.round_down(Decimal(2003)) == Decimal(2000)


def test_daily_limit_is_thirty_percent_of_the_previous_close() -> None:
    ref = Decimal(70_000)
    assert rules.limit_problem(Decimal(91_000), STOCK, ref) is None
    assert rules.limit_problem(Decimal(49_000), STOCK, ref) is None
    assert rules.limit_problem(Decimal(91_100), STOCK, ref) == (
        "price 91,100 is above the daily upper limit 91,000 (previous close 70,000 ±30%)"
    )
    assert rules.limit_problem(Decimal(48_950), STOCK, ref) == (
        "price 48,950 is below the daily lower limit 49,000 (previous close 70,000 ±30%)"
    )
    # Limits are themselves on the grid: 45,000 x 1.3 = 58,500, x 0.7 = 31,500.
    assert STOCK.price_limits(Decimal(45_000)) == (Decimal(31_500), Decimal(58_500))
    assert rules.limit_problem(Decimal(58_600), STOCK, Decimal(45_000)) is not None
    # Without a previous close there is nothing to measure against.
    assert rules.limit_problem(Decimal(1_000_000), STOCK, None) is None


def test_konex_band_is_fifteen_percent() -> None:
    assert "±15%" in (rules.limit_problem(Decimal(11_600), KONEX, Decimal(10_000)) or "")
    assert rules.limit_problem(Decimal(11_500), KONEX, Decimal(10_000)) is None


def test_quantity_must_be_a_lot_multiple_and_at_least_the_minimum() -> None:
    odd = replace(STOCK, lot_size=Decimal(10), min_quantity=Decimal(10))
    assert rules.quantity_problem(limit("70000", "5"), odd) == "quantity 5 is below the minimum 10"
    assert rules.quantity_problem(limit("70000", "15"), odd) == (
        "quantity 15 is not a multiple of the lot size 10"
    )
    assert rules.quantity_problem(limit("70000", "20"), odd) is None


def test_market_closed_on_seollal_and_after_the_close(xkrx) -> None:
    assert rules.session_problem(xkrx, at_seoul(2026, 3, 3, 10, 0), "KRX") is None
    holiday = rules.session_problem(xkrx, at_seoul(2026, 2, 17, 10, 0), "KRX")
    assert holiday == "market closed: KRX is not trading at 2026-02-17T01:00:00Z"
    assert rules.session_problem(xkrx, at_seoul(2026, 3, 3, 16, 0), "KRX") is not None


def test_static_checks_report_the_first_problem(xkrx) -> None:
    ts = at_seoul(2026, 3, 3, 10, 0)
    problem = rules.static_problem(limit("70050"), STOCK, ts, xkrx, Decimal(70_000))
    assert problem is not None and "tick ladder" in problem
    assert rules.static_problem(limit("70100"), STOCK, ts, xkrx, Decimal(70_000)) is None
