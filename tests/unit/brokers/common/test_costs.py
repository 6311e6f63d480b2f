"""Costs of venue fills: the sell tax follows the settlement date, two KRX sessions later."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from jts.brokers.common.costs import krx_fill_costs
from jts.domain.enums import Side
from jts.domain.timestamps import dt_to_ns
from jts.sim.fees import FeeSchedule

SEOUL = ZoneInfo("Asia/Seoul")


def at(y: int, m: int, d: int) -> int:
    return dt_to_ns(datetime(y, m, d, 10, 0, tzinfo=SEOUL))


def test_a_sale_settling_in_the_new_year_pays_the_new_years_tax() -> None:
    fees = FeeSchedule.default(krx_commission=Decimal("0.00015"))
    args = ("KRX:005930", Side.SELL, Decimal(100), Decimal(10_000))
    # Friday 2025-12-26 settles Tuesday 2025-12-30: the 2025 rate (0.15 %).
    _, tax_2025 = krx_fill_costs(fees, *args, at(2025, 12, 26))
    # Monday 2025-12-29 settles 2026-01-02 (12-31 is a KRX holiday): 0.20 %.
    commission, tax_2026 = krx_fill_costs(fees, *args, at(2025, 12, 29))
    assert (tax_2025, tax_2026) == (Decimal(1_500), Decimal(2_000))
    assert commission == Decimal(150)


def test_buys_pay_no_tax() -> None:
    fees = FeeSchedule.default()
    _, tax = krx_fill_costs(
        fees, "KRX:005930", Side.BUY, Decimal(1), Decimal(70_000), at(2026, 3, 3)
    )
    assert tax == 0
