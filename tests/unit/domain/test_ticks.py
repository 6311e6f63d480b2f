"""The one tick ladder: every band edge of every KRX board and date, and its refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jts.domain.enums import Market
from jts.domain.errors import InvalidOrder
from jts.domain.instruments import crypto_pair
from jts.domain.instruments import krx_stock
from jts.domain.ticks import KRX_UNIFIED_FROM
from jts.domain.ticks import TickRule
from jts.domain.ticks import krx_stock_ladder

UNIFIED_DAY = date(2026, 3, 3)
OLD_DAY = date(2022, 6, 2)

# (first price of the band, its tick) for every band, lowest first.
UNIFIED = [(1, 1), (2_000, 5), (5_000, 10), (20_000, 50), (50_000, 100), (200_000, 500),
           (500_000, 1_000)]  # fmt: skip
KOSPI_OLD = [(1, 1), (1_000, 5), (5_000, 10), (10_000, 50), (50_000, 100), (100_000, 500),
             (500_000, 1_000)]  # fmt: skip
KOSDAQ_OLD = [(1, 1), (1_000, 5), (5_000, 10), (10_000, 50), (50_000, 100)]


def ladders() -> list[tuple[Market, date, list[tuple[int, int]]]]:
    return [
        (Market.KOSPI, UNIFIED_DAY, UNIFIED),
        (Market.KOSDAQ, UNIFIED_DAY, UNIFIED),
        (Market.KONEX, UNIFIED_DAY, UNIFIED),
        (Market.KOSPI, OLD_DAY, KOSPI_OLD),
        (Market.KOSDAQ, OLD_DAY, KOSDAQ_OLD),
        (Market.KONEX, OLD_DAY, KOSDAQ_OLD),
    ]


@pytest.mark.parametrize(("market", "day", "bands"), ladders())
def test_every_band_edge_of_every_board(
    market: Market, day: date, bands: list[tuple[int, int]]
) -> None:
    rule = krx_stock_ladder(market, day)
    for i, (lower, tick) in enumerate(bands):
        edge = Decimal(lower)
        assert rule.tick_at(edge) == tick, (market, day, lower)
        assert rule.is_on_grid(edge)
        if i == 0:
            continue
        below_tick = Decimal(bands[i - 1][1])
        # The last price of the band below is on that band's grid...
        assert rule.tick_at(edge - below_tick) == below_tick
        assert rule.is_on_grid(edge - below_tick)
        # ...one band tick above the edge is valid, half of it is not.
        assert rule.is_on_grid(edge + tick)
        if tick > 1:
            off = edge + Decimal(tick) / 2
            assert not rule.is_on_grid(off)
            assert rule.nearest_valid(off) == (edge, edge + tick)
        # Just under the edge: nearest valid are the band-below grid point and the edge.
        under = edge - below_tick / 2
        assert rule.nearest_valid(under) == (edge - below_tick, edge)


def test_the_ladder_changes_on_2023_01_25_for_every_board() -> None:
    day_before = date(2023, 1, 24)
    assert date(2023, 1, 25) == KRX_UNIFIED_FROM
    # 1,500: 5 won before, 1 won after; 150,000: KOSPI 500 and KOSDAQ 100 before, 100 after.
    assert krx_stock_ladder(Market.KOSPI, day_before).tick_at(Decimal(1_500)) == 5
    assert krx_stock_ladder(Market.KOSPI, KRX_UNIFIED_FROM).tick_at(Decimal(1_500)) == 1
    assert krx_stock_ladder(Market.KOSPI, day_before).tick_at(Decimal(150_000)) == 500
    assert krx_stock_ladder(Market.KOSDAQ, day_before).tick_at(Decimal(150_000)) == 100
    assert krx_stock_ladder(Market.KOSDAQ, day_before).tick_at(Decimal(600_000)) == 100
    assert krx_stock_ladder(Market.KOSDAQ, KRX_UNIFIED_FROM).tick_at(Decimal(600_000)) == 1_000
    assert TickRule.krx_stock() == krx_stock_ladder(Market.KONEX, KRX_UNIFIED_FROM)


def test_an_instrument_knows_the_ladder_of_its_board_on_a_day() -> None:
    kosdaq = krx_stock("247540", "Ecopro BM", Market.KOSDAQ)
    kospi = krx_stock("005930", "Samsung Electronics", Market.KOSPI)
    assert kosdaq.tick_rule_on(OLD_DAY).tick_at(Decimal(300_000)) == 100
    assert kospi.tick_rule_on(OLD_DAY).tick_at(Decimal(300_000)) == 500
    assert kosdaq.tick_rule_on(UNIFIED_DAY).tick_at(Decimal(300_000)) == 500
    assert kosdaq.tick_rule_on(None) == TickRule.krx_stock()
    kosdaq.check_price(Decimal(300_100), OLD_DAY)
    with pytest.raises(InvalidOrder, match="300,000 below, 300,500 above"):
        kosdaq.check_price(Decimal(300_100), UNIFIED_DAY)


def test_an_off_ladder_price_is_refused_with_the_nearest_valid_prices() -> None:
    samsung = krx_stock("005930", "Samsung Electronics")
    with pytest.raises(InvalidOrder) as refused:
        samsung.check_price(Decimal(71_550), UNIFIED_DAY)
    assert str(refused.value) == (
        "KRX:005930: price 71,550 KRW is not on the tick ladder "
        "(ticks of 100 KRW from 50,000 below 200,000): nearest valid 71,500 below, 71,600 above"
    )


def test_a_fractional_price_is_refused_not_rounded() -> None:
    samsung = krx_stock("005930", "Samsung Electronics")
    with pytest.raises(InvalidOrder) as refused:
        samsung.check_price(Decimal("71500.9"), UNIFIED_DAY)
    assert str(refused.value) == (
        "KRX:005930: price 71,500.9 KRW is not on the tick ladder "
        "(ticks of 100 KRW from 50,000 below 200,000), and not a whole number of KRW: "
        "nearest valid 71,500 below, 71,600 above"
    )
    # Even where the tick is one won.
    problem = TickRule.krx_stock().problem(Decimal("1500.5"), "KRW")
    assert problem is not None and "1,500 below, 1,501 above" in problem


def test_top_band_and_non_positive_prices() -> None:
    rule = TickRule.krx_stock()
    assert rule.problem(Decimal(700_500), "KRW") == (
        "price 700,500 KRW is not on the tick ladder (ticks of 1,000 KRW from 500,000): "
        "nearest valid 700,000 below, 701,000 above"
    )
    assert rule.problem(Decimal(0), "KRW") == (
        "price 0 KRW is not on the tick ladder (ticks of 1 KRW from 0 below 2,000) "
        "(prices must be positive): nearest valid 1 above"
    )
    assert rule.problem(Decimal("0.5"), "KRW") is not None
    assert rule.problem(Decimal(71_500), "KRW") is None


def test_a_flat_ladder_keeps_decimals() -> None:
    btc = crypto_pair("UPBIT", "KRW-BTC", "KRW", "1000", "0.00000001", 0)
    eth = crypto_pair("BINANCE", "ETHUSDT", "USDT", "0.01", "0.0001", 8)
    btc.check_price(Decimal(98_765_000), None)
    eth.check_price(Decimal("3456.78"), None)
    with pytest.raises(InvalidOrder, match=r"3,456.78 below, 3,456.79 above"):
        eth.check_price(Decimal("3456.785"), None)
