"""Money rules: reservations, rejections for cash and position, fees booked, books balance."""

from __future__ import annotations

import random
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce

DAY = "2026-03-03"
SAMSUNG = "KRX:005930"


def test_limit_buy_needs_price_times_quantity_plus_fees(make_harness) -> None:
    # 10 x 70,000 = 700,000 + 0.015% commission (105) = 700,105
    harness = make_harness(cash=Decimal(700_104))
    k = harness.kst
    report = harness.submit(harness.order(Side.BUY, 10, 70_000), k(DAY, "10:00"))
    assert report.status is OrderStatus.REJECTED
    assert report.reason == (
        "insufficient cash: order needs 700,105 KRW (price x quantity + fees), "
        "700,104 KRW available"
    )
    rich = make_harness(cash=Decimal(700_105))
    assert rich.submit(rich.order(Side.BUY, 10, 70_000), k(DAY, "10:00")).status is (
        OrderStatus.ACCEPTED
    )
    assert rich.account.available_cash == 0


def test_market_buy_is_valued_at_last_price_plus_a_buffer(make_harness) -> None:
    harness = make_harness(cash=Decimal(735_000))
    k = harness.kst
    no_price = harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:00"))
    assert no_price.status is OrderStatus.REJECTED
    assert no_price.reason == "no last price for KRX:005930 to value a market order"
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    # 10 x 70,000 x 1.05 = 735,000 plus fees (111) > 735,000
    report = harness.submit(harness.order(Side.BUY, 10), k(DAY, "09:01"))
    assert report.status is OrderStatus.REJECTED
    assert "insufficient cash: order needs 735,111 KRW" in (report.reason or "")


def test_open_buys_cannot_spend_the_same_cash_twice(make_harness) -> None:
    harness = make_harness(cash=Decimal(1_000_000))
    k = harness.kst
    first = harness.submit(harness.order(Side.BUY, 10, 70_000), k(DAY, "10:00"))
    second = harness.submit(harness.order(Side.BUY, 10, 70_000), k(DAY, "10:00"))
    assert (first.status, second.status) == (OrderStatus.ACCEPTED, OrderStatus.REJECTED)


def test_sells_need_a_position_unless_shorting_is_allowed(make_harness) -> None:
    harness = make_harness()
    k = harness.kst
    report = harness.submit(harness.order(Side.SELL, 5, 70_000), k(DAY, "10:00"))
    assert report.reason == (
        "insufficient position: cannot sell 5 KRX:005930, 0 available "
        "(short selling is not allowed)"
    )
    harness.submit(harness.order(Side.BUY, 10, 70_000), k(DAY, "10:00"))
    harness.bar(k(DAY, "10:00"), 70_000, 70_000, 70_000, 70_000)
    assert harness.submit(harness.order(Side.SELL, 6, 71_000), k(DAY, "10:01")).status is (
        OrderStatus.ACCEPTED
    )
    # Six are already promised to the open sell: only four remain.
    assert harness.submit(harness.order(Side.SELL, 5, 71_000), k(DAY, "10:01")).status is (
        OrderStatus.REJECTED
    )
    shorting = make_harness(allow_short=True)
    shorting.submit(shorting.order(Side.SELL, 5, 70_000), k(DAY, "10:00"))
    shorting.bar(k(DAY, "10:00"), 70_000, 70_000, 70_000, 70_000)
    assert shorting.account.position(SAMSUNG) == Decimal(-5)


def test_market_buy_that_outruns_its_buffer_fills_what_cash_covers(make_harness) -> None:
    harness = make_harness(cash=Decimal(1_000_000))
    k = harness.kst
    harness.bar(k(DAY, "09:00"), 70_000, 70_000, 70_000, 70_000)
    assert harness.submit(harness.order(Side.BUY, 13), k(DAY, "09:01")).status is (
        OrderStatus.ACCEPTED
    )  # 13 x 73,500 + fees = 955,643
    reports = harness.bar(k(DAY, "09:01"), 90_000, 90_000, 90_000, 90_000)
    assert [r.status for r in reports] == [OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELED]
    assert reports[0].fill.quantity == Decimal(11)  # 11 x 90,000 + 148 = 990,148
    assert harness.account.cash == Decimal(1_000_000 - 990_000 - 148)
    assert harness.account.reserved_cash == 0
    assert harness.account.cash >= 0


def test_fees_and_taxes_are_charged_on_every_fill(harness) -> None:
    k = harness.kst
    harness.submit(harness.order(Side.BUY, 7, 70_100), k(DAY, "10:00"))
    (buy,) = harness.bar(k(DAY, "10:00"), 70_100, 70_100, 70_100, 70_100)
    harness.submit(harness.order(Side.SELL, 7, 70_100), k(DAY, "10:01"))
    (sell,) = harness.bar(k(DAY, "10:01"), 70_100, 70_100, 70_100, 70_100)
    assert (buy.fill.commission, buy.fill.tax) == (Decimal(73), Decimal(0))
    assert (sell.fill.commission, sell.fill.tax) == (Decimal(73), Decimal(981))  # 2026: 0.20%
    assert harness.account.cash == harness.start_cash - 73 - 73 - 981


def test_books_balance_over_a_random_session(make_harness) -> None:
    harness = make_harness(cash=Decimal(50_000_000))
    k = harness.kst
    rng = random.Random(11)
    price = 70_000
    tifs = [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC]
    for minute in range(390):
        ts = k(DAY, "09:00") + minute * 60_000_000_000
        for _ in range(rng.randint(0, 3)):
            side = rng.choice([Side.BUY, Side.SELL])
            limit = None if rng.random() < 0.3 else price + rng.randint(-5, 5) * 100
            order = harness.order(side, rng.randint(1, 60), limit, tif=rng.choice(tifs))
            harness.engine.submit(order, ts)
            if rng.random() < 0.1 and harness.engine.open_orders():
                harness.engine.cancel(rng.choice(harness.engine.open_orders()).client_order_id, ts)
        move = rng.randint(-3, 3) * 100
        open_, close = price, price + move
        high, low = max(open_, close) + 100, min(open_, close) - 100
        harness.bar(ts, open_, high, low, close, volume=rng.randint(0, 800))
        price = close
        assert harness.account.cash >= harness.account.reserved_cash >= 0
        assert harness.account.position(SAMSUNG) >= 0
    harness.engine.end_of_session(k(DAY, "15:30"))
    for order in harness.engine.open_orders():
        harness.engine.cancel(order.client_order_id, k(DAY, "15:30"))
    fills = harness.engine.fills()
    assert len(fills) > 50
    bought = sum((f.notional for f in fills if f.side is Side.BUY), Decimal(0))
    sold = sum((f.notional for f in fills if f.side is Side.SELL), Decimal(0))
    fees = sum((f.commission for f in fills), Decimal(0))
    taxes = sum((f.tax for f in fills), Decimal(0))
    assert taxes > 0
    assert harness.account.cash == harness.start_cash - bought + sold - fees - taxes
    net = sum((f.quantity * f.side.sign for f in fills), Decimal(0))
    assert harness.account.position(SAMSUNG) == net
    assert harness.account.reserved_cash == 0
    assert harness.account.reserved_quantity(SAMSUNG) == 0
    for order in harness.engine.orders():
        assert order.status.is_terminal
        mine = [f.quantity for f in fills if f.client_order_id == order.client_order_id]
        assert sum(mine, Decimal(0)) == order.filled_quantity
