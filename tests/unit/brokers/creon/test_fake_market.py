"""The fake Creon market on the shared matching engine: Creon's numbers over jts.sim's rules."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

import pytest

from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge.fake.market import FakeCreonMarket
from jts.domain.enums import OrderStatus
from jts.domain.timestamps import dt_to_ns

CODE = "A005930"
KST = timezone(timedelta(hours=9))


def ready(**options: Any) -> FakeCreonMarket:
    market = FakeCreonMarket(**options)
    assert market.factory().dispatch(com.TD_UTIL).TradeInit(0) == 0
    return market


def order(
    market: FakeCreonMarket, side: str, qty: int, price: int, extra: dict[int, str] | None = None
) -> Any:
    inputs = {0: side, 1: market.account, 2: market.product, 3: CODE, 4: qty, 5: price}
    inputs.update(extra or {})
    return market.place(inputs)


def amend(market: FakeCreonMarket, order_no: int, qty: int = 0, price: int = 0) -> dict[int, Any]:
    return {1: order_no, 2: market.account, 3: market.product, 4: CODE, 5: qty, 6: price}


def test_the_engine_ledger_is_the_account() -> None:
    market = ready()
    placed, _ = order(market, "2", 10, 69_000)
    assert market.ledger.reserved_cash == 690_000  # the engine reserved it (no fees)
    market.set_price(CODE, 68_500)
    assert (placed.filled, placed.avg_price) == (10, 68_500)  # at the trade's price
    assert market.cash == 100_000_000 - 685_000
    assert market.positions == {CODE: 60}
    assert market.ledger.reserved_cash == 0
    engine_order = market.engine.order(str(placed.order_no))
    assert engine_order is not None and engine_order.status is OrderStatus.FILLED
    sell, _ = order(market, "1", 60, 70_000)
    assert market.sellable(CODE) == 0
    refused, message = order(market, "1", 1, 70_000)
    assert refused is None and message.startswith("[40021] 매도가능수량")
    market.trade(CODE, 70_000, 60)
    assert sell.filled == 60 and market.positions == {}


def test_refusals_come_in_creons_words_and_change_nothing() -> None:
    market = ready()
    cases = (
        (order(market, "2", 10_000, 69_000), "[40020] 매수가능금액"),
        (order(market, "2", 1, 70_050), "[40010]"),
        (order(market, "2", 1, 95_000), "[40011]"),  # above +30% of the previous close
        (order(market, "3", 1, 69_000), "[40001]"),
        (order(market, "2", 1, 69_000, {8: "03"}), "[40005]"),
    )
    for (placed, message), expected in cases:
        assert placed is None and message.startswith(expected), message
    assert market.orders() == []
    assert market.ledger.reserved_cash == 0


def test_marketable_market_and_ioc_orders() -> None:
    market = ready()
    price = market.listings[CODE].price
    at_market, _ = order(market, "2", 3, 0, {8: "03"})
    assert (at_market.filled, at_market.avg_price) == (3, price)
    ioc, _ = order(market, "2", 4, price - 1_000, {7: "1"})
    assert (ioc.filled, ioc.cancelled, ioc.open_quantity) == (0, 4, 0)
    rows = market.all_orders()
    assert rows[-1].is_cancel and rows[-1].orig_order_no == ioc.order_no
    assert market.engine.open_orders() == []


def test_a_partial_modify_leaves_the_rest_at_the_old_price_under_the_old_number() -> None:
    market = ready()
    old, _ = order(market, "2", 10, 60_000)
    new, problem = market.modify(amend(market, old.order_no, qty=4, price=59_000))
    assert new is not None, problem
    assert (old.open_quantity, new.open_quantity, new.orig_order_no) == (6, 4, old.order_no)
    assert len(market.engine.open_orders()) == 2
    market.trade(CODE, 60_000, 10)  # crosses only the old price
    assert (old.filled, new.filled) == (6, 0)
    market.trade(CODE, 59_000, 10)
    assert new.filled == 4
    same, message = market.modify(amend(market, old.order_no, price=61_000))
    assert same is None and "정정가능수량" in message


def test_a_modify_the_engine_refuses_leaves_the_order_as_it_was() -> None:
    market = ready()
    placed, _ = order(market, "2", 5, 60_000)
    refused, message = market.modify(amend(market, placed.order_no, price=60_050))
    assert refused is None and message.startswith("[40010]")
    assert placed.open_quantity == 5 and placed.moved == 0
    working = market.engine.order(str(placed.order_no))
    assert working is not None and working.price == Decimal(60_000)


def test_the_fake_trades_at_any_hour() -> None:
    sunday_night = dt_to_ns(datetime(2026, 11, 29, 3, 0, tzinfo=KST))
    market = ready(clock_ns=lambda: sunday_night)
    placed, problem = order(market, "2", 1, 69_000)
    assert placed is not None, problem
    market.set_price(CODE, 69_000)
    assert placed.filled == 1


def test_a_trade_needs_a_quantity() -> None:
    with pytest.raises(ValueError, match="positive quantity"):
        ready().trade(CODE, 70_000, -1)
