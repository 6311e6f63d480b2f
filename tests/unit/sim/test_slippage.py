"""Slippage models: prices move against the order by what they state, within what traded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import build_paper_venue
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import krx_stock
from jts.domain.ticks import KRX_UNIFIED
from jts.sim.slippage import NoSlippage
from jts.sim.slippage import ProportionalSlippage
from jts.sim.slippage import TickSlippage
from jts.sim.slippage import parse_slippage

DAY = "2026-03-03"


def test_the_four_forms_parse_and_anything_else_is_refused() -> None:
    assert parse_slippage("none").model == NoSlippage()
    assert parse_slippage("ticks:2").model == TickSlippage(2)
    assert parse_slippage("BPS:7.5").model == ProportionalSlippage(Decimal("7.5"))
    volume = parse_slippage("volume:0.05")
    assert (volume.model, volume.participation_rate) == (NoSlippage(), Decimal("0.05"))
    assert [parse_slippage(t).text for t in ("", "ticks:3", "bps:10.0", "volume:0.50")] == [
        "none",
        "ticks:3",
        "bps:10",
        "volume:0.5",
    ]
    for bad in ("ticks:1.5", "ticks:-1", "bps:x", "volume:0", "volume:1.5", "pct:3", "ticks"):
        with pytest.raises(ConfigurationError):
            parse_slippage(bad)


def test_fixed_ticks_step_along_the_ladder_across_a_band_edge() -> None:
    # 49,950 is on the 50-won band; the next tick up is 50,000, then the 100-won band.
    assert TickSlippage(2).slip(Decimal(49_950), Side.BUY, KRX_UNIFIED) == Decimal(50_100)
    assert TickSlippage(2).slip(Decimal(50_100), Side.SELL, KRX_UNIFIED) == Decimal(49_950)
    # An off-ladder price is first put on the ladder against the order, then moved.
    assert TickSlippage(1).slip(Decimal(70_050), Side.BUY, KRX_UNIFIED) == Decimal(70_200)
    assert TickSlippage(1).slip(Decimal(70_050), Side.SELL, KRX_UNIFIED) == Decimal(69_900)


def test_fixed_ticks_use_the_ladder_of_the_fill_date() -> None:
    stock = krx_stock("005930", "Samsung Electronics")
    # 15,000 won: 10-won ticks since 2023-01-25, 50-won ticks on KOSPI before.
    before, after = stock.tick_rule_on(date(2022, 6, 2)), stock.tick_rule_on(date(2026, 3, 3))
    assert TickSlippage(1).slip(Decimal(15_000), Side.BUY, before) == Decimal(15_050)
    assert TickSlippage(1).slip(Decimal(15_000), Side.BUY, after) == Decimal(15_010)


def test_proportional_slippage_rounds_onto_the_ladder_against_the_order() -> None:
    # 70,300 x 1.001 = 70,370.3 -> up to 70,400; x 0.999 = 70,229.7 -> down to 70,200.
    bps = ProportionalSlippage(Decimal(10))
    assert bps.slip(Decimal(70_300), Side.BUY, KRX_UNIFIED) == Decimal(70_400)
    assert bps.slip(Decimal(70_300), Side.SELL, KRX_UNIFIED) == Decimal(70_200)
    assert ProportionalSlippage(Decimal(0)).slip(Decimal(70_300), Side.BUY, KRX_UNIFIED) == (
        Decimal(70_300)
    )
    # A sell never slips to zero or below.
    assert ProportionalSlippage(Decimal(20_000)).slip(Decimal(500), Side.SELL, KRX_UNIFIED) == 1


def test_the_engine_fills_market_orders_at_the_slipped_price_and_charges_on_it(
    make_harness,
) -> None:
    harness = make_harness(slippage=TickSlippage(2))
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01"))
    (bought,) = harness.bar(k(DAY, "09:01"), 70_300, 70_800, 70_100, 70_200)
    assert bought.fill.price == Decimal(70_500)  # open 70,300 + two 100-won ticks
    assert bought.fill.commission == Decimal(105)  # 705,000 x 0.015% = 105.75, truncated
    harness.submit(harness.order(Side.SELL, 10), k(DAY, "09:02"))
    (sold,) = harness.bar(k(DAY, "09:02"), 70_300, 70_800, 70_000, 70_200)
    assert sold.fill.price == Decimal(70_100)


def test_slippage_never_leaves_the_bar_range_nor_passes_a_limit(make_harness) -> None:
    harness = make_harness(slippage=TickSlippage(5))
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01"))
    (capped,) = harness.bar(k(DAY, "09:01"), 70_300, 70_500, 70_100, 70_200)
    assert capped.fill.price == Decimal(70_500)  # the bar's high, not 70,800
    harness.submit(harness.order(Side.BUY, 10, 70_400), k(DAY, "09:02"))
    (limited,) = harness.bar(k(DAY, "09:02"), 70_300, 71_000, 70_100, 70_200)
    assert limited.fill.price == Decimal(70_400)  # never above the limit
    harness.submit(harness.order(Side.SELL, 20), k(DAY, "09:03"))
    (floor,) = harness.bar(k(DAY, "09:03"), 70_300, 70_400, 70_200, 70_300)
    assert floor.fill.price == Decimal(70_200)  # the bar's low, not 69,800


def test_proportional_slippage_in_the_engine(make_harness) -> None:
    harness = make_harness(slippage=ProportionalSlippage(Decimal(10)))
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01"))
    (report,) = harness.bar(k(DAY, "09:01"), 70_300, 70_800, 70_100, 70_200)
    assert report.fill.price == Decimal(70_400)


async def test_a_volume_share_caps_fills_through_the_participation_rate() -> None:
    clock = SimClock()
    venue = build_paper_venue(clock, PaperConfig(slippage="volume:0.05"), sessions=1)
    assert venue.engine.config.participation_rate == Decimal("0.05")
    assert venue.engine.config.slippage == NoSlippage()
    bps = build_paper_venue(clock, PaperConfig(slippage="bps:5"), sessions=1)
    assert bps.engine.config.slippage == ProportionalSlippage(Decimal(5))
    assert bps.engine.config.participation_rate == Decimal("0.10")


def test_a_volume_share_fills_that_share_of_each_bar(make_harness) -> None:
    harness = make_harness(participation=parse_slippage("volume:0.05").participation_rate)
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 100), k(DAY, "09:01"))
    (first,) = harness.bar(k(DAY, "09:01"), 70_300, 70_800, 70_100, 70_200, volume=1_000)
    assert (first.status, first.fill.quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(50))
    (second,) = harness.bar(k(DAY, "09:02"), 70_300, 70_800, 70_100, 70_200, volume=1_000)
    assert (second.status, second.fill.quantity) == (OrderStatus.FILLED, Decimal(50))
