"""Matching rules: causality, fill prices, liquidity, partial fills, expiry, cancels, ids."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.errors import UnknownOrder
from jts.domain.market import Tick

DAY = "2026-03-03"
NEXT_DAY = "2026-03-04"


def statuses(reports) -> list[OrderStatus]:
    return [report.status for report in reports]


def test_an_order_never_fills_against_the_bar_that_produced_its_signal(harness) -> None:
    k = harness.kst
    # The 09:00 bar closes at 09:01; the strategy reacts and submits at 09:01.
    harness.bar(k(DAY, "09:00"), 70_000, 70_500, 69_800, 70_400)
    order = harness.order(Side.BUY, 10)
    assert harness.submit(order, k(DAY, "09:01")).status is OrderStatus.ACCEPTED
    # A late delivery of the signal bar (or any bar that started earlier) cannot fill it.
    assert harness.bar(k(DAY, "09:00"), 69_000, 69_000, 69_000, 69_000) == []
    reports = harness.bar(k(DAY, "09:01"), 70_600, 70_900, 70_500, 70_800)
    assert statuses(reports) == [OrderStatus.FILLED]
    assert reports[0].fill.price == Decimal(70_600)  # the NEXT bar's open


def test_an_order_placed_mid_bar_waits_for_the_following_bar(harness) -> None:
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01", 30))
    assert harness.bar(k(DAY, "09:01"), 70_100, 70_200, 70_000, 70_100) == []
    assert statuses(harness.bar(k(DAY, "09:02"), 70_200, 70_200, 70_200, 70_200)) == [
        OrderStatus.FILLED
    ]


def test_market_orders_fill_at_the_open_as_taker(harness) -> None:
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01"))
    (report,) = harness.bar(k(DAY, "09:01"), 70_300, 70_500, 70_100, 70_200)
    assert report.fill.liquidity is LiquiditySide.TAKER
    assert report.fill.price == Decimal(70_300)
    assert report.fill.ts == k(DAY, "09:02")  # known when the bar closes


def test_limit_buy_rests_then_fills_at_its_limit_as_maker(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 69_500), k(DAY, "09:00"))
    assert harness.bar(k(DAY, "09:00"), 70_000, 70_100, 69_600, 69_900) == []  # low above limit
    (report,) = harness.bar(k(DAY, "09:01"), 69_900, 70_000, 69_400, 69_600)
    assert report.fill.price == Decimal(69_500)
    assert report.fill.liquidity is LiquiditySide.MAKER


def test_limit_buy_gapped_through_fills_at_the_better_open(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 69_500), k(DAY, "09:00"))
    harness.bar(k(DAY, "09:00"), 70_000, 70_100, 69_600, 69_900)
    (report,) = harness.bar(k(DAY, "09:01"), 69_000, 69_200, 68_900, 69_100)
    assert report.fill.price == Decimal(69_000)
    assert report.fill.liquidity is LiquiditySide.MAKER  # it was resting when the gap came


def test_marketable_limit_on_arrival_is_taker_at_the_open(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 71_000), k(DAY, "09:00"))
    (report,) = harness.bar(k(DAY, "09:00"), 70_200, 70_300, 70_100, 70_200)
    assert report.fill.price == Decimal(70_200)
    assert report.fill.liquidity is LiquiditySide.TAKER


def test_limit_sell_prices(make_harness) -> None:
    harness = make_harness(allow_short=True)
    k = harness.kst
    harness.submit(harness.order(Side.SELL, 10, 70_500), k(DAY, "09:00"))
    harness.submit(harness.order(Side.SELL, 10, 70_000), k(DAY, "09:00"))
    first = harness.bar(k(DAY, "09:00"), 70_100, 70_600, 70_000, 70_300)
    by_order = {report.client_order_id: report.fill for report in first}
    assert by_order["C1"].price == Decimal(70_500)  # high reached the limit: rests, maker
    assert by_order["C1"].liquidity is LiquiditySide.MAKER
    assert by_order["C2"].price == Decimal(70_100)  # marketable: max(limit, open) = open
    assert by_order["C2"].liquidity is LiquiditySide.TAKER


def test_partial_fills_follow_bar_volume(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 120, 70_000), k(DAY, "09:00"))
    one = harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000, volume=509)
    two = harness.bar(k(DAY, "09:01"), 69_900, 70_000, 69_900, 69_900, volume=500)
    three = harness.bar(k(DAY, "09:02"), 70_000, 70_000, 70_000, 70_000, volume=5_000)
    assert [r.fill.quantity for r in one + two + three] == [Decimal(50), Decimal(50), Decimal(20)]
    assert statuses(one + two + three) == [
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    order = harness.engine.order("C1")
    assert order.avg_fill_price == Decimal(50 * 70_000 + 50 * 69_900 + 20 * 70_000) / 120
    assert harness.account.position("KRX:005930") == Decimal(120)


def test_volume_is_shared_between_orders_in_acceptance_order(make_harness) -> None:
    harness = make_harness(participation=Decimal("0.5"))
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 30, 70_000), k(DAY, "09:00"))
    harness.submit(harness.order(Side.BUY, 30, 70_000), k(DAY, "09:00"))
    reports = harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000, volume=81)
    assert [(r.client_order_id, r.fill.quantity) for r in reports] == [
        ("C1", Decimal(30)),
        ("C2", Decimal(10)),
    ]
    assert harness.bar(k(DAY, "09:01"), 70_000, 70_000, 70_000, 70_000, volume=0) == []


def test_ticks_fill_at_most_their_size(harness) -> None:
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01"))
    early = Tick("KRX:005930", k(DAY, "09:00", 59), Decimal(69_000), Decimal(100))
    assert harness.engine.on_tick(early) == []
    tick = Tick("KRX:005930", k(DAY, "09:01", 2), Decimal(70_100), Decimal(4))
    (report,) = harness.engine.on_tick(tick)
    assert (report.fill.quantity, report.fill.price) == (Decimal(4), Decimal(70_100))
    assert report.status is OrderStatus.PARTIALLY_FILLED
    assert report.fill.ts == tick.ts


def test_day_orders_expire_at_the_first_data_of_the_next_session(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 60_000), k(DAY, "15:00"))
    harness.submit(harness.order(Side.BUY, 10, 60_000, tif=TimeInForce.GTC), k(DAY, "15:00"))
    # Each order holds 10 x 60,000 KRW and its 0.015 % commission (90 KRW).
    assert harness.account.reserved_cash == 2 * 600_090
    assert harness.bar(k(DAY, "15:29"), 70_000, 70_000, 70_000, 70_000) == []
    reports = harness.bar(k(NEXT_DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    assert statuses(reports) == [OrderStatus.EXPIRED]
    assert reports[0].client_order_id == "C1"
    assert reports[0].reason == "DAY order expired at the end of session 2026-03-03"
    assert [order.client_order_id for order in harness.engine.open_orders()] == ["C2"]
    assert harness.account.reserved_cash == 600_090  # only the GTC order still holds cash


def test_explicit_end_of_session_expires_day_orders_and_frees_cash(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 60_000), k(DAY, "15:00"))
    reports = harness.engine.end_of_session(k(DAY, "15:30"))
    assert statuses(reports) == [OrderStatus.EXPIRED]
    assert harness.account.reserved_cash == 0
    assert harness.engine.end_of_session(k(DAY, "15:31")) == []


def test_cancel_releases_reservations_and_is_idempotent(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 10, 60_000), k(DAY, "10:00"))
    (canceled,) = harness.engine.cancel("C1", k(DAY, "10:01"))
    assert canceled.status is OrderStatus.CANCELED
    assert harness.account.reserved_cash == 0
    (again,) = harness.engine.cancel("C1", k(DAY, "10:02"))
    assert again.status is OrderStatus.CANCELED
    assert again.reason == "cannot cancel: order is CANCELED"
    assert harness.bar(k(DAY, "10:02"), 59_000, 59_000, 59_000, 59_000) == []
    with pytest.raises(UnknownOrder):
        harness.engine.cancel("NOPE", k(DAY, "10:03"))


def test_duplicate_client_order_id_never_places_a_second_order(harness) -> None:
    k = harness.kst
    first = harness.order(Side.BUY, 10, 70_000, client_order_id="SAME")
    again = harness.order(Side.BUY, 10, 70_000, client_order_id="SAME")
    assert harness.submit(first, k(DAY, "10:00")).status is OrderStatus.ACCEPTED
    reserved = harness.account.reserved_cash
    echo = harness.submit(again, k(DAY, "10:00", 5))
    assert echo.status is OrderStatus.ACCEPTED
    assert echo.reason is not None and "duplicate client_order_id" in echo.reason
    assert len(harness.engine.orders()) == 1
    assert harness.account.reserved_cash == reserved
    harness.bar(k(DAY, "10:01"), 70_000, 70_000, 70_000, 70_000)
    assert harness.account.position("KRX:005930") == Decimal(10)
    assert harness.submit(again, k(DAY, "10:03")).status is OrderStatus.FILLED


def test_ioc_remainder_is_canceled_after_its_first_chance(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 100, 70_000, tif=TimeInForce.IOC), k(DAY, "10:00"))
    reports = harness.bar(k(DAY, "10:00"), 70_000, 70_000, 70_000, 70_000, volume=300)
    assert statuses(reports) == [OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELED]
    assert reports[0].fill.quantity == Decimal(30)
    assert harness.engine.open_orders() == []


def test_ids_are_deterministic(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 20, 70_000), k(DAY, "10:00"))
    reports = harness.bar(k(DAY, "10:00"), 70_000, 70_000, 70_000, 70_000, volume=100)
    reports += harness.bar(k(DAY, "10:01"), 70_000, 70_000, 70_000, 70_000, volume=100)
    assert [r.fill.fill_id for r in reports] == ["KRX-1", "KRX-2"]
    assert reports[0].venue_order_id == "KRX-O1"


def test_the_daily_limit_moves_with_the_previous_sessions_close(harness) -> None:
    k = harness.kst
    harness.bar(k(DAY, "15:29"), 80_000, 80_000, 80_000, 80_000)
    # Same session: the reference is still the 70,000 close before it (upper limit 91,000).
    report = harness.submit(harness.order(Side.BUY, 1, 95_000), k(DAY, "15:29", 30))
    assert report.status is OrderStatus.REJECTED
    harness.bar(k(NEXT_DAY, "09:00"), 80_000, 80_000, 80_000, 80_000)
    assert harness.engine.reference_price("KRX:005930") == Decimal(80_000)
    ok = harness.submit(harness.order(Side.BUY, 1, 104_000), k(NEXT_DAY, "09:01"))
    assert ok.status is OrderStatus.ACCEPTED  # 80,000 x 1.3 = 104,000


def test_a_bounded_history_forgets_closed_orders_and_fills_of_older_sessions(harness) -> None:
    k = harness.kst
    engine = harness.engine
    engine.config = replace(engine.config, history_sessions=1)
    days = ("2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06")
    harness.bar(k(days[0], "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 1, client_order_id="first"), k(days[0], "09:01"))
    harness.bar(k(days[0], "09:01"), 70_000, 70_000, 70_000, 70_000)
    harness.bar(k(days[1], "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 1, client_order_id="second"), k(days[1], "09:01"))
    harness.bar(k(days[1], "09:01"), 70_000, 70_000, 70_000, 70_000)
    resting = harness.order(Side.BUY, 1, 60_000, client_order_id="resting")
    harness.submit(resting, k(days[1], "09:02"))
    assert [f.client_order_id for f in engine.fills()] == ["first", "second"]

    harness.bar(k(days[2], "09:00"), 70_000, 70_000, 70_000, 70_000)  # resting expires now
    assert engine.order("first") is None
    assert engine.order("second") is not None  # the session before is still answered for
    assert engine.order("resting").status is OrderStatus.EXPIRED
    assert [f.client_order_id for f in engine.fills()] == ["second"]

    harness.bar(k(days[3], "09:00"), 70_000, 70_000, 70_000, 70_000)
    assert engine.order("second") is None
    assert engine.order("resting") is not None  # expired at the start of days[2]
    assert engine.fills() == []


def test_history_is_kept_whole_by_default(harness) -> None:
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    harness.submit(harness.order(Side.BUY, 1, client_order_id="kept"), k(DAY, "09:01"))
    harness.bar(k(DAY, "09:01"), 70_000, 70_000, 70_000, 70_000)
    for day in ("2026-03-04", "2026-03-05", "2026-03-06"):
        harness.bar(k(day, "09:00"), 70_000, 70_000, 70_000, 70_000)
    assert harness.engine.order("kept") is not None
    assert len(harness.engine.fills()) == 1
