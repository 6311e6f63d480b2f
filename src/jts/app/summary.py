"""What a run did, gathered from the stores and services, with the books checked."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from jts.app.equity import Point
from jts.app.equity import max_drawdown
from jts.app.platform import Platform
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.fills import Fill

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SymbolResult:
    instrument_id: str
    name: str
    bought: Decimal
    sold: Decimal
    position: Decimal
    avg_price: Decimal
    last_price: Decimal | None
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    fees: Decimal
    taxes: Decimal

    @property
    def net_pnl(self) -> Decimal:
        return self.realised_pnl + self.unrealised_pnl - self.fees - self.taxes


@dataclass(frozen=True, slots=True)
class BooksCheck:
    """Cash and positions three ways: from the fills, from the portfolio, at the venue."""

    expected_cash: Decimal
    portfolio_cash: Decimal
    venue_cash: Decimal
    position_mismatches: tuple[str, ...]

    @property
    def balanced(self) -> bool:
        return (
            self.expected_cash == self.portfolio_cash == self.venue_cash
            and not self.position_mismatches
        )


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Counts of this run beside the stores' totals (a resumed run adds to earlier ones).

    Market minutes, bars and signals are this run's; orders and fills are given both
    ways. P&L, cash and the books are the account's, over everything stored.
    """

    steps: int
    bars: int
    bars_stored: int
    quarantined: int
    signals: int
    orders_by_status: dict[OrderStatus, int]
    fills: int
    stored_orders_by_status: dict[OrderStatus, int]
    stored_fills: int
    symbols: tuple[SymbolResult, ...]
    starting_cash: Decimal
    cash: Decimal
    equity: Decimal
    books: BooksCheck
    strategy_faults: dict[str, str]
    # This run's curve, ending at its final state; the chart draws the same points.
    equity_points: tuple[Point, ...]
    max_drawdown: Decimal

    @property
    def equity_curve(self) -> tuple[Decimal, ...]:
        return tuple(equity for _, equity in self.equity_points)


async def summarise(platform: Platform) -> RunSummary:
    kernel = platform.kernel
    orders = await platform.sql.orders.list()
    fills = await platform.sql.fills.list()
    snapshot = kernel.portfolio.snapshot()
    starting = kernel.portfolio.config.starting_cash
    account = await platform.venue.account()
    symbols = tuple(_symbol_results(platform, fills))
    mismatches = tuple(
        s.instrument_id
        for s in symbols
        if not (s.bought - s.sold == s.position == account.positions.get(s.instrument_id, ZERO))
    )
    # Market time only moves forward across runs: this run's records are those from its start.
    since = platform.started_ts
    mine = [] if since is None else [o for o in orders if o.created_ts >= since]
    points = platform.equity.curve(final=(platform.clock.timestamp_ns(), snapshot.equity))
    return RunSummary(
        steps=platform.steps,
        bars=kernel.collector.stats.bars,
        bars_stored=kernel.collector.stats.stored,
        quarantined=kernel.collector.stats.quarantined,
        signals=kernel.strategy_engine.stats.signals,
        orders_by_status=dict(Counter(o.status for o in mine)),
        fills=0 if since is None else sum(1 for f in fills if f.ts >= since),
        stored_orders_by_status=dict(Counter(o.status for o in orders)),
        stored_fills=len(fills),
        symbols=symbols,
        starting_cash=starting,
        cash=snapshot.cash,
        equity=snapshot.equity,
        books=BooksCheck(
            expected_cash=expected_cash(starting, fills),
            portfolio_cash=snapshot.cash,
            venue_cash=account.cash,
            position_mismatches=mismatches,
        ),
        strategy_faults=dict(kernel.strategy_engine.stats.faults),
        equity_points=points,
        max_drawdown=max_drawdown([equity for _, equity in points]),
    )


def expected_cash(starting: Decimal, fills: list[Fill]) -> Decimal:
    """Start cash - bought notional + sold notional - fees - taxes."""
    bought = sum((f.notional for f in fills if f.side is Side.BUY), ZERO)
    sold = sum((f.notional for f in fills if f.side is Side.SELL), ZERO)
    costs = sum((f.commission + f.tax for f in fills), ZERO)
    return starting - bought + sold - costs


def _symbol_results(platform: Platform, fills: list[Fill]) -> list[SymbolResult]:
    positions = platform.kernel.portfolio.positions
    results = []
    for instrument_id in sorted({f.instrument_id for f in fills}):
        mine = [f for f in fills if f.instrument_id == instrument_id]
        position = positions[instrument_id]
        instrument = platform.instruments.get(instrument_id)
        results.append(
            SymbolResult(
                instrument_id=instrument_id,
                name=instrument.name if instrument else instrument_id,
                bought=sum((f.quantity for f in mine if f.side is Side.BUY), ZERO),
                sold=sum((f.quantity for f in mine if f.side is Side.SELL), ZERO),
                position=position.quantity,
                avg_price=position.avg_price,
                last_price=position.last_price,
                realised_pnl=position.realised_pnl,
                unrealised_pnl=position.unrealised_pnl(),
                fees=position.fees,
                taxes=position.taxes,
            )
        )
    return results
