"""Research runs end to end on a few bars: fills at the next open, none after the last bar."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from decimal import Decimal

from jts.app.research import ResearchTrade
from jts.app.research import daily_bars
from jts.app.research import run_research
from jts.domain.enums import OrderStatus
from jts.domain.market import Bar
from jts.sim.research import research_instrument
from jts.storage.sql.repositories import SqlStore
from jts.strategy.sma_cross import SmaCrossStrategy

GOOG = research_instrument("GOOG")


def bars(closes: list[str], opens: list[str] | None = None) -> list[Bar]:
    first = date(2004, 8, 19)
    rows = []
    for i, close in enumerate(closes):
        c = Decimal(close)
        o = Decimal(opens[i]) if opens else c
        rows.append((first + timedelta(days=i), o, max(o, c), min(o, c), c, Decimal(1000)))
    return daily_bars(GOOG.key, rows)


def strategy() -> SmaCrossStrategy:
    return SmaCrossStrategy(strategy_id="s", params={"fast": 1, "slow": 2, "cross": "adjacent"})


async def test_a_cross_fills_at_the_next_open_and_a_last_bar_signal_never_fills(
    sqlite_url: str,
) -> None:
    # fast - slow from bar 1: -0.5, +1 (BUY at 2's close), +0.5, -1.5 (SELL on the last bar).
    closes = ["10", "9", "11", "12", "9"]
    opens = ["10", "9.5", "10.5", "12.5", "10"]
    result = await run_research(
        bars(closes, opens), strategy(), GOOG, cash=Decimal(1000), sql_url=sqlite_url
    )
    # Bought at bar 3's open with all the cash; the SELL of the last bar is still waiting.
    assert result.trades == [ResearchTrade(Decimal("80"), 3, Decimal("12.5"))]
    assert result.cash == 0
    assert result.positions == {GOOG.key: Decimal(80)}
    assert result.final_equity == Decimal(80) * Decimal(9) == result.portfolio_equity
    store = SqlStore.open(sqlite_url)
    try:
        statuses = sorted(o.status for o in await store.orders.list())
    finally:
        await store.close()
    assert statuses == [OrderStatus.ACCEPTED, OrderStatus.FILLED]


async def test_a_round_trip_with_commission_books_exactly() -> None:
    # BUY at bar 2's close, fills at bar 3's open (10.5); SELL at bar 4's close, fills at 5's.
    closes = ["10", "9", "11", "11.5", "9", "9"]
    opens = ["10", "9", "10", "10.5", "11", "9.5"]
    result = await run_research(
        bars(closes, opens), strategy(), GOOG, cash=Decimal(1000), commission=Decimal("0.001")
    )
    [trade] = result.trades
    assert (trade.entry_bar, trade.entry_price, trade.exit_bar, trade.exit_price) == (
        3,
        Decimal("10.5"),
        5,
        Decimal("9.5"),
    )
    assert trade.quantity == Decimal("95.14295228")  # 1000 / (10.5 x 1.001), floored to 1e-8
    bought = trade.quantity * Decimal("10.5") * Decimal("1.001")
    sold = trade.quantity * Decimal("9.5") * Decimal("0.999")
    assert result.final_equity == Decimal(1000) - bought + sold == result.cash
    assert result.positions == {}
