from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jts.domain.enums import AssetClass
from jts.domain.enums import LiquiditySide
from jts.domain.enums import Market
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import crypto_pair
from jts.domain.instruments import krx_stock
from jts.sim.fees import CommissionRule
from jts.sim.fees import FeeSchedule
from jts.sim.fees import RateSchedule
from jts.sim.fees import round_down

KOSPI = krx_stock("005930", "Samsung Electronics", Market.KOSPI)
KOSDAQ = krx_stock("247540", "Ecopro BM", Market.KOSDAQ)
KONEX = krx_stock("199800", "Konex stock", Market.KONEX)
TRADE = date(2026, 3, 3)


def sell_tax(instrument, notional: int, settles: date) -> Decimal:
    _, tax = FeeSchedule.default().costs(
        instrument, Side.SELL, Decimal(1), Decimal(notional), TRADE, settles
    )
    return tax


@pytest.mark.parametrize(
    ("settles", "kospi", "kosdaq", "konex"),
    [
        (date(2023, 6, 1), 2_000, 2_000, 1_000),
        (date(2024, 6, 1), 1_800, 1_800, 1_000),
        (date(2025, 6, 1), 1_500, 1_500, 1_000),
        (date(2026, 6, 1), 2_000, 2_000, 1_000),
    ],
)
def test_sell_tax_follows_the_settlement_year(settles, kospi, kosdaq, konex) -> None:
    assert sell_tax(KOSPI, 1_000_000, settles) == kospi
    assert sell_tax(KOSDAQ, 1_000_000, settles) == kosdaq
    assert sell_tax(KONEX, 1_000_000, settles) == konex


def test_a_trade_on_2025_12_30_settles_in_2026_and_pays_the_2026_rate(xkrx) -> None:
    schedule = FeeSchedule.default()
    late = date(2025, 12, 30)
    earlier = date(2025, 12, 26)
    assert xkrx.settlement_date(late, 2) == date(2026, 1, 5)
    assert xkrx.settlement_date(earlier, 2) == date(2025, 12, 30)
    args = (KOSPI, Side.SELL, Decimal(10), Decimal(100_000))
    _, tax_late = schedule.costs(*args, late, xkrx.settlement_date(late, 2))
    _, tax_earlier = schedule.costs(*args, earlier, xkrx.settlement_date(earlier, 2))
    assert tax_late == Decimal(2_000)  # 0.20% of 1,000,000
    assert tax_earlier == Decimal(1_500)  # 0.15%


def test_buys_pay_commission_but_no_tax() -> None:
    commission, tax = FeeSchedule.default().costs(
        KOSPI, Side.BUY, Decimal(10), Decimal(70_000), TRADE, TRADE
    )
    assert commission == Decimal(105)  # 700,000 x 0.015%
    assert tax == 0


def test_amounts_are_rounded_down_to_whole_won() -> None:
    # 7 x 70,100 = 490,700: commission 73.605 -> 73, tax 0.20% = 981.4 -> 981
    commission, tax = FeeSchedule.default().costs(
        KOSPI, Side.SELL, Decimal(7), Decimal(70_100), TRADE, date(2026, 3, 5)
    )
    assert (commission, tax) == (Decimal(73), Decimal(981))
    assert commission.as_tuple().exponent == 0


def test_krx_commission_is_configurable() -> None:
    schedule = FeeSchedule.default(krx_commission=Decimal("0.0025"))
    commission, _ = schedule.costs(KOSPI, Side.BUY, Decimal(10), Decimal(70_000), TRADE, TRADE)
    assert commission == Decimal(1_750)


def test_crypto_maker_and_taker_rates_by_venue() -> None:
    btc_krw = crypto_pair("UPBIT", "KRW-BTC", "KRW", "1000", "0.00000001", 0)
    btc_usdt = crypto_pair("BINANCE", "BTCUSDT", "USDT", "0.01", "0.00001", 8)
    schedule = FeeSchedule.default()
    for liquidity in LiquiditySide:
        commission, tax = schedule.costs(
            btc_krw, Side.SELL, Decimal("0.01"), Decimal(100_000_000), TRADE, TRADE, liquidity
        )
        assert (commission, tax) == (Decimal(500), Decimal(0))  # 0.05%, no tax on crypto
        commission, _ = schedule.costs(
            btc_usdt, Side.BUY, Decimal("0.00123"), Decimal("65000.01"), TRADE, TRADE, liquidity
        )
        # 79.9500123 USDT x 0.1% = 0.0799500123 -> 0.07995001 (8 places, down)
        assert commission == Decimal("0.07995001")


def test_dated_commission_steps_and_missing_rates() -> None:
    rule = CommissionRule(
        maker=RateSchedule(
            [(date(2024, 1, 1), Decimal("0.001")), (date(2025, 1, 1), Decimal("0"))]
        ),
        taker=RateSchedule.constant("0.002"),
    )
    schedule = FeeSchedule.default().with_commission("UPBIT", rule, AssetClass.CRYPTO)
    pair = crypto_pair("UPBIT", "KRW-ETH", "KRW", "1000", "0.0001", 0)
    assert schedule.commission_rate(pair, date(2024, 12, 31), LiquiditySide.MAKER) == Decimal(
        "0.001"
    )
    assert schedule.commission_rate(pair, date(2025, 1, 1), LiquiditySide.MAKER) == 0
    assert schedule.commission_rate(pair, date(2025, 1, 1), LiquiditySide.TAKER) == Decimal("0.002")
    with pytest.raises(ConfigurationError, match="no rate effective on 2023-12-31"):
        schedule.commission_rate(pair, date(2023, 12, 31), LiquiditySide.MAKER)
    with pytest.raises(ConfigurationError, match="no commission configured for venue COINONE"):
        schedule.costs(
            crypto_pair("COINONE", "BTC", "KRW", "1", "1", 0),
            Side.BUY,
            Decimal(1),
            Decimal(1),
            TRADE,
            TRADE,
        )


def test_rate_schedule_refuses_duplicates_and_negatives() -> None:
    with pytest.raises(ConfigurationError):
        RateSchedule([(date(2024, 1, 1), Decimal(1)), (date(2024, 1, 1), Decimal(2))])
    with pytest.raises(ConfigurationError):
        RateSchedule([(date(2024, 1, 1), Decimal(-1))])
    with pytest.raises(ConfigurationError):
        RateSchedule([])


def test_round_down_never_rounds_up() -> None:
    assert round_down(Decimal("999.999"), 0) == Decimal(999)
    assert round_down(Decimal("0.123456789"), 8) == Decimal("0.12345678")
