"""Research runs: one strategy over a list of bars on the research account, services real.

This is the engine under ``--account research``: the same kernel as ``jts run``
(strategy engine, order execution with all-cash sizing, portfolio, SQL store), driven
as ``Platform.run`` drives it: per bar, set the simulated clock to the bar's close,
let the paper venue match working orders against the bar, hand the bar to the
strategies, and wait for the bus to settle (lockstep). The venue is the paper venue
with ``rules="research"``: no lots, ticks, limits or trading hours, quantities in
1e-8 units, commission an exact fraction of the notional.

So a signal at the close of bar t becomes a market order that spends all cash and
fills at the open of bar t+1 (cash / (open x (1 + commission)) units); a SELL sells
everything; a signal on the last bar never fills; what is held at the end is valued
at the last close. Bars of any timeframe are published to the strategies directly:
the market data collector takes one-minute bars only.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import BarEvent
from jts.domain.fills import Fill
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import dt_to_ns
from jts.services.kernel import KernelConfig
from jts.services.kernel import KernelPorts
from jts.services.kernel import build_trading_kernel
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from jts.strategy.base import Strategy

ZERO = Decimal(0)
SOURCE = "research"


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
        return await _drive(bars, strategy, instrument, cash, commission, sql)
    finally:
        await sql.close()


async def _drive(
    bars: Sequence[Bar],
    strategy: Strategy,
    instrument: Instrument,
    cash: Decimal,
    commission: Decimal,
    sql: SqlStore,
) -> ResearchResult:
    clock = SimClock(0)
    bus = InProcessMessageBus()
    venue = build_paper_venue(
        clock,
        PaperConfig(
            account=SOURCE,
            market_venue=instrument.id.venue,
            currency=instrument.currency,
            starting_cash=cash,
            commission_rate=commission,
            rules="research",
            id_prefix="RESEARCH",
        ),
        instruments=[instrument],
        source=[],
    )
    kernel = build_trading_kernel(
        KernelPorts(
            bus=bus,
            clock=clock,
            orders=sql.orders,
            outbox=sql.outbox,
            fills=sql.fills,
            positions=sql.positions,
            strategy_records=sql.strategies,
            execution_client=venue.execution,
            bar_store=None,
            instruments={instrument.key: instrument},
            strategies=[strategy],
        ),
        _kernel_config(instrument.currency, cash),
    )
    await bus.start()
    await venue.execution.connect()
    await kernel.start()
    try:
        for bar in bars:
            clock.set_time(bar.close_ts)
            await venue.execution.on_batch(MarketDataBatch(ts=bar.close_ts, bars=(bar,)))
            await bus.publish(
                topics.MARKET_BARS, BarEvent.from_bar(bar, ts=bar.close_ts, source=SOURCE)
            )
            await bus.drain()
    finally:
        await kernel.stop()
        await bus.stop()
        await venue.execution.disconnect()
    ledger = venue.engine.account
    positions = ledger.positions()
    held = sum(
        (qty * (venue.engine.last_price(key) or ZERO) for key, qty in positions.items()), ZERO
    )
    fills = sorted(await sql.fills.list(), key=lambda f: (f.ts, f.fill_id))
    return ResearchResult(
        fills=fills,
        trades=round_trips(fills, {bar.close_ts: i for i, bar in enumerate(bars)}),
        cash=ledger.cash,
        positions=positions,
        final_equity=ledger.cash + held,
        portfolio_equity=kernel.portfolio.snapshot().equity,
    )


def _kernel_config(currency: str, cash: Decimal) -> KernelConfig:
    """The default services, with all-cash market orders and the research account's cash."""
    defaults = KernelConfig()
    return replace(
        defaults,
        sizing=replace(defaults.sizing, all_cash=True, order_type=OrderType.MARKET),
        portfolio=replace(
            defaults.portfolio, account=SOURCE, currency=currency, starting_cash=cash
        ),
    )


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
