"""The research account: no lots, ticks, limits, hours or volume cap; exact fees; cash orders."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from jts.brokers.common.calendars import AlwaysOpenCalendar
from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.timestamps import dt_to_ns
from jts.sim.account import SimAccount
from jts.sim.fees import FeeSchedule
from jts.sim.matching import MatchingConfig
from jts.sim.matching import MatchingEngine
from jts.sim.research import research_instrument
from jts.sim.rules import RESEARCH_RULES
from jts.sim.slippage import parse_slippage

GOOG = research_instrument("GOOG")
DAY = Timeframe.D1.nanos


def utc(day: int, hour: int = 0) -> int:
    """Nanoseconds of 2004-08-<day> <hour>:00 UTC (the 21st and 22nd are a weekend)."""
    return dt_to_ns(datetime(2004, 8, day, hour, tzinfo=UTC))


class Research:
    def __init__(self, commission: str = "0", cash: str = "10000", slippage: str = "none") -> None:
        self.account = SimAccount(Decimal(cash), "USD", "research")
        self.engine = MatchingEngine(
            "RESEARCH",
            [GOOG],
            AlwaysOpenCalendar(),
            self.account,
            FeeSchedule.research(commission),
            MatchingConfig(
                rules=RESEARCH_RULES, id_prefix="R", slippage=parse_slippage(slippage).model
            ),
        )
        self._n = 0

    def order(
        self,
        side: Side,
        quantity: str,
        price: str | None = None,
        *,
        spend: str | None = None,
    ) -> Order:
        self._n += 1
        return Order(
            GOOG.key,
            side,
            OrderType.MARKET if price is None else OrderType.LIMIT,
            Decimal(quantity),
            None if price is None else Decimal(price),
            0,
            "paper",
            client_order_id=f"C{self._n}",
            quote_quantity=None if spend is None else Decimal(spend),
        )

    def submit(self, order: Order, ts: int) -> ExecutionReport:
        [report] = self.engine.submit(order, ts)
        return report

    def bar(
        self,
        ts: int,
        o: str,
        close: str | None = None,
        volume: str = "1",
        high: str | None = None,
    ) -> list[Bar]:
        price, last = Decimal(o), Decimal(close or o)
        top = max(price, last) if high is None else Decimal(high)
        bar = Bar(GOOG.key, Timeframe.D1, ts, price, top, min(price, last), last,
                  Decimal(volume))  # fmt: skip
        self.reports = self.engine.on_bar(bar)
        return [bar]


def test_fractional_quantities_on_the_1e_8_unit() -> None:
    r = Research()
    r.bar(utc(19), "100")
    fine = r.submit(r.order(Side.BUY, "0.12345678"), utc(20))
    assert fine.status is OrderStatus.ACCEPTED
    finer = r.submit(r.order(Side.BUY, "0.123456789"), utc(20))
    assert finer.status is OrderStatus.REJECTED
    assert finer.reason == "quantity 0.123456789 is not a multiple of the unit 0.00000001"


def test_no_tick_ladder_no_daily_limit_and_no_trading_hours() -> None:
    r = Research()
    r.bar(utc(19), "100")
    # Off any ladder, ten times the last close, on a Saturday night: all accepted.
    for price in ("100.123", "1000", "0.5"):
        report = r.submit(r.order(Side.BUY, "1", price), utc(21, 23))
        assert report.status is OrderStatus.ACCEPTED, report.reason
    # A DAY order lives on across days: no session ends in the research account.
    r.bar(utc(23), "101")
    first = r.engine.order("C1")
    assert first is not None and first.is_open
    assert [rep.status for rep in r.reports] == [OrderStatus.FILLED]  # the 1000 limit crossed


def test_a_krx_stock_in_the_research_account_has_no_ladder_lot_or_limit() -> None:
    samsung = krx_stock("005930", "Samsung Electronics")
    engine = MatchingEngine(
        "KRX",
        [samsung],
        AlwaysOpenCalendar(),
        SimAccount(Decimal(10**9), "KRW"),
        FeeSchedule.research(),
        MatchingConfig(rules=RESEARCH_RULES),
    )
    engine.set_reference(samsung.key, Decimal(70_000))
    # Off the 100-won ladder, above the +30% limit (91,000), half a share: all accepted.
    order = Order(samsung.key, Side.BUY, OrderType.LIMIT, Decimal("0.5"), Decimal(95_050), 0, "p")
    [report] = engine.submit(order, utc(21, 3))
    assert report.status is OrderStatus.ACCEPTED, report.reason


def test_no_volume_cap_and_commission_is_an_exact_fraction_of_the_notional() -> None:
    r = Research(commission="0.001")
    r.bar(utc(19), "186.31")
    r.submit(r.order(Side.BUY, "40.5"), utc(20))
    r.bar(utc(20), "186.31", volume="1")
    [filled] = r.reports
    assert filled.fill is not None
    assert filled.fill.quantity == Decimal("40.5")  # 40 times the bar's volume
    # 40.5 x 186.31 = 7,545.555; 0.1% of it, not truncated to cents: 7.545555.
    assert filled.fill.commission == Decimal("7.545555")
    assert filled.fill.tax == 0
    assert r.account.cash == Decimal(10000) - Decimal("7545.555") - Decimal("7.545555")


@pytest.mark.parametrize("commission", ["0", "0.001"])
def test_a_cash_order_buys_cash_over_price_times_one_plus_commission(commission: str) -> None:
    r = Research(commission=commission)
    r.bar(utc(19), "100.34")
    # Sized at the signal's close: an estimate; the venue sizes at the next open.
    order = r.order(Side.BUY, "99.66", spend="10000")
    accepted = r.submit(order, utc(20))
    assert accepted.status is OrderStatus.ACCEPTED
    assert r.account.reserved_cash == Decimal(10000)  # exactly the amount, nothing more
    r.bar(utc(20), "101.01", close="108.31")
    [filled] = r.reports
    assert filled.status is OrderStatus.FILLED and filled.fill is not None
    exact = Fraction(10000) / (Fraction("101.01") * (1 + Fraction(commission)))
    units = exact.numerator * 10**8 // exact.denominator
    assert filled.fill.quantity == Decimal(units).scaleb(-8)
    assert filled.fill.liquidity is LiquiditySide.TAKER
    stored = r.engine.order(order.client_order_id)
    assert stored is not None and stored.quantity == filled.fill.quantity
    assert r.account.reserved_cash == 0
    left = r.account.cash
    one_more = Decimal("1e-8") * Decimal("101.01") * (1 + Decimal(commission))
    assert 0 <= left < one_more  # all the cash, to the last unit
    assert r.account.position(GOOG.key) == filled.fill.quantity


@pytest.mark.parametrize(
    ("high", "close", "paid"),
    # 10 bps worse than the open, or the bar's high at most.
    [("110", "108.31", "101.11101"), ("101.05", "101.02", "101.05")],
)
def test_a_cash_order_fills_at_the_slipped_open_and_spends_its_cash_there(
    high: str, close: str, paid: str
) -> None:
    r = Research(commission="0.001", slippage="bps:10")
    r.bar(utc(19), "100.34")
    r.submit(r.order(Side.BUY, "99.66", spend="10000"), utc(20))
    r.bar(utc(20), "101.01", close=close, high=high)
    [filled] = r.reports
    assert filled.fill is not None and filled.fill.price == Decimal(paid)
    # Sized at the price it pays: the most 1e-8 units 10,000 buys there, commission on top.
    exact = Fraction(10000) / (Fraction(paid) * Fraction("1.001"))
    units = exact.numerator * 10**8 // exact.denominator
    assert filled.fill.quantity == Decimal(units).scaleb(-8)
    assert 0 <= r.account.cash < Decimal("1e-8") * Decimal(paid) * Decimal("1.001")


def test_a_cash_order_too_small_for_one_unit_is_canceled() -> None:
    r = Research(cash="1")
    r.bar(utc(19), "100")
    r.submit(r.order(Side.BUY, "1", spend="0.0000005"), utc(20))
    r.bar(utc(20), "100")
    [canceled] = r.reports
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.reason == "0.0000005 USD buys less than one unit at 100"
    assert r.account.reserved_cash == 0 and r.account.cash == 1


def test_a_cash_order_cannot_spend_more_than_is_free() -> None:
    r = Research()
    r.bar(utc(19), "100")
    assert r.submit(r.order(Side.BUY, "50", spend="6000"), utc(20)).status is OrderStatus.ACCEPTED
    second = r.submit(r.order(Side.BUY, "50", spend="6000"), utc(20))
    assert second.status is OrderStatus.REJECTED
    assert (second.reason or "").startswith("insufficient cash: order needs 6,000 USD")


def test_a_cash_order_at_a_krx_venue_buys_whole_lots_with_truncated_fees(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness = make_harness()
    k = harness.kst
    harness.bar(k("2026-03-03", "09:00"), 70_000, 70_000, 70_000, 70_000)
    spend = harness.order(Side.BUY, 14)
    spend.quote_quantity = Decimal(1_000_000)
    assert harness.submit(spend, k("2026-03-03", "09:01")).status is OrderStatus.ACCEPTED
    [filled] = harness.bar(k("2026-03-03", "09:01"), 71_000, 71_000, 71_000, 71_000)
    # 1,000,000 / (71,000 x 1.00015) = 14.08 -> 14 shares; 994,000 + 149 (0.015%, floored).
    assert filled.fill is not None
    assert (filled.fill.quantity, filled.fill.commission) == (Decimal(14), Decimal(149))
    assert harness.account.cash == Decimal(100_000_000) - Decimal(994_149)
