"""Research runs: one strategy over a list of bars on the research account, services real.

This is ``jts backtest run --account research`` without the command line: the same
wiring (``jts.app.backtest.prepare_run``) and the same replay loop
(``jts.backtest.replay``) over bars handed in, with the orders and fills in a SQL
store. Per bar the simulated clock moves to the bar's close, the paper venue matches
working orders against the bar, the collector publishes it to the strategies, and
the kernel settles (lockstep). The venue is the paper venue with ``rules="research"``:
no lots, ticks, limits or trading hours, quantities in 1e-8 units, commission an
exact fraction of the notional.

So a signal at the close of bar t becomes a market order that spends all cash and
fills at the open of bar t+1 (cash / (open x (1 + commission)) units); a SELL sells
everything; a signal on the last bar never fills; what is held at the end is valued
at the last close. Bars of any timeframe are replayed (the research collector takes
them all).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jts.app.backtest import BacktestRequest
from jts.app.backtest import prepare_run
from jts.app.backtest_data import bars_input
from jts.app.settings import Settings
from jts.domain.enums import Side
from jts.domain.fills import Fill
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.timestamps import dt_to_ns
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from jts.strategy.base import Strategy

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ResearchTrade:
    """One round trip: bought at the open of ``entry_bar``, sold at ``exit_bar``'s (or held)."""

    quantity: Decimal
    entry_bar: int
    entry_price: Decimal
    exit_bar: int | None = None
    exit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ResearchResult:
    fills: list[Fill]
    trades: list[ResearchTrade]
    cash: Decimal
    positions: dict[str, Decimal]
    # Cash plus every holding valued at its last close.
    final_equity: Decimal
    # The portfolio service's own equity at the end, computed from the fills it was sent.
    portfolio_equity: Decimal


def daily_bars(
    instrument_id: str,
    rows: Iterable[tuple[date, Decimal, Decimal, Decimal, Decimal, Decimal]],
) -> list[Bar]:
    """Daily bars from (day, open, high, low, close, volume) rows, each starting 00:00 UTC."""
    return [
        Bar(
            instrument_id,
            Timeframe.D1,
            dt_to_ns(datetime(day.year, day.month, day.day, tzinfo=UTC)),
            open_,
            high,
            low,
            close,
            volume,
        )
        for day, open_, high, low, close, volume in rows
    ]


async def run_research(
    bars: Sequence[Bar],
    strategy: Strategy,
    instrument: Instrument,
    *,
    cash: Decimal,
    commission: Decimal = ZERO,
    sql_url: str | None = None,
) -> ResearchResult:
    """Run ``strategy`` over ``bars`` (one instrument, in time order) on the research account.

    Orders and fills go to the SQL store at ``sql_url`` (migrated here); without
    one, to a SQLite file in a temporary folder removed afterwards.
    """
    if sql_url is not None:
        return await _run(bars, strategy, instrument, cash, commission, sql_url)
    with tempfile.TemporaryDirectory(prefix="jts-research-") as folder:
        url = f"sqlite:///{Path(folder) / 'research.db'}"
        return await _run(bars, strategy, instrument, cash, commission, url)


async def _run(
    bars: Sequence[Bar],
    strategy: Strategy,
    instrument: Instrument,
    cash: Decimal,
    commission: Decimal,
    sql_url: str,
) -> ResearchResult:
    await asyncio.to_thread(upgrade, sql_url)
    sql = SqlStore.open(sql_url)
    try:
        request = BacktestRequest(
            strategy=strategy.strategy_id, account="research", cash=cash, commission=commission
        )
        data = bars_input(bars, [instrument], f"{len(bars):,} bars of {instrument.key}")
        prepared = prepare_run(Settings(), request, data, strategy, sql)
        result = await prepared.run()
        ledger = prepared.venue.engine.account
        positions = ledger.positions()
        engine = prepared.venue.engine
        held = sum((qty * (engine.last_price(key) or ZERO) for key, qty in positions.items()), ZERO)
        fills = sorted(result.fills, key=lambda f: (f.ts, f.fill_id))
        return ResearchResult(
            fills=fills,
            trades=round_trips(fills, {bar.close_ts: i for i, bar in enumerate(bars)}),
            cash=ledger.cash,
            positions=positions,
            final_equity=ledger.cash + held,
            portfolio_equity=result.metrics.final_equity,
        )
    finally:
        await sql.close()


def round_trips(fills: Sequence[Fill], bar_of_ts: dict[int, int]) -> list[ResearchTrade]:
    """Long-only round trips from fills in time order; a fill is dated by its bar's close."""
    trades: list[ResearchTrade] = []
    open_trade: ResearchTrade | None = None
    for fill in fills:
        index = bar_of_ts[fill.ts]
        if fill.side is Side.BUY:
            if open_trade is not None:
                raise ValueError(f"fill {fill.fill_id} buys while a trade is open (long only)")
            open_trade = ResearchTrade(fill.quantity, index, fill.price)
            continue
        if open_trade is None or fill.quantity != open_trade.quantity:
            raise ValueError(f"fill {fill.fill_id} does not close the open trade")
        trades.append(
            ResearchTrade(
                open_trade.quantity, open_trade.entry_bar, open_trade.entry_price, index, fill.price
            )
        )
        open_trade = None
    if open_trade is not None:
        trades.append(open_trade)
    return trades
