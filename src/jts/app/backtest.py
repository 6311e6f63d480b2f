"""``jts backtest``: a strategy through the trading kernel over recorded bars, then a report.

Everything the kernel needs is built here, once, from ports like any other
environment (``jts.services.kernel`` builds the services): a simulated clock, the
in-process bus, in-memory trading stores, and the paper venue over the shared matching
engine with the account's fees and taxes and the chosen slippage. ``jts.backtest``
replays the bars and measures the run; this module writes the trade list, the equity
curve (Parquet), the chart (SVG) and the fingerprint, and records the run in the
relational store of the data folder.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from jts.app.backtest_accounts import AccountModel
from jts.app.backtest_accounts import account_model
from jts.app.backtest_data import BacktestData
from jts.app.backtest_data import BarInput
from jts.app.backtest_data import open_bar_input
from jts.app.backtest_data import symbols_of
from jts.app.datadir import prepare_data_dir
from jts.app.decisions import SignalLog
from jts.app.equity import EquityCurve
from jts.app.plot import write_equity_svg
from jts.app.settings import Settings
from jts.backtest.fingerprint import decimal_text
from jts.backtest.replay import BacktestResult
from jts.backtest.replay import StepCallback
from jts.backtest.replay import run_backtest
from jts.brokers.common.calendars import calendar_for_venue
from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.execution import PaperExecutionClient
from jts.brokers.paper.factory import PaperVenue
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.direct import DirectMessageBus
from jts.core.clocks import SimClock
from jts.domain.backtests import BacktestRun
from jts.domain.errors import ConfigurationError
from jts.domain.orders import Order
from jts.domain.signals import Signal
from jts.ports import FillRepository
from jts.ports import OrderRepository
from jts.ports import OutboxRepository
from jts.ports import PositionRepository
from jts.ports import StrategyRepository
from jts.services.kernel import KernelPorts
from jts.services.kernel import TradingKernel
from jts.services.kernel import build_trading_kernel
from jts.sim.slippage import parse_slippage
from jts.storage.memory import MemoryStore
from jts.storage.result_files import write_equity_parquet
from jts.storage.result_files import write_fills_parquet
from jts.storage.result_files import write_orders_parquet
from jts.storage.result_files import write_signals_parquet
from jts.storage.sql.engine import sqlite_path
from jts.storage.sql.migrate import check_schema_current
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore
from jts.strategy.base import Strategy
from jts.strategy.registry import create_strategy

# Points drawn in the chart: the curve itself is kept whole in equity.parquet.
_CHART_POINTS = 2_048


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    strategy: str
    params: Mapping[str, object] = field(default_factory=dict)
    bars: BarInput = field(default_factory=BarInput)
    # None: the account's default (paper.starting_cash; research: 10,000).
    cash: Decimal | None = None
    slippage: str = "none"
    # The account model (``jts.app.backtest_accounts``): krx, or research for cross-checks.
    account: str = "krx"
    # A fraction of the notional per side instead of the account's commission.
    commission: Decimal | None = None
    out_dir: Path | None = None
    # The strategy's id: its signals' and orders' ids derive from it, so a backtest of the
    # configured strategy takes the configured id (None: ``backtest-<strategy>``).
    strategy_id: str | None = None


class TradingStores(Protocol):
    """The relational repositories a run books into: in memory, or a SQL database."""

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def fills(self) -> FillRepository: ...

    @property
    def positions(self) -> PositionRepository: ...

    @property
    def strategies(self) -> StrategyRepository: ...


@dataclass(slots=True)
class PreparedBacktest:
    """Everything wired and nothing run yet: the CLI draws progress from ``kernel``."""

    request: BacktestRequest
    settings: Settings
    data: BacktestData
    kernel: TradingKernel
    clock: SimClock
    stores: TradingStores
    paper: PaperConfig
    strategy_id: str
    params: dict[str, object]
    # The simulated venue: its execution client and the ledger of its matching engine.
    venue: PaperVenue
    signals: SignalLog

    @property
    def execution(self) -> PaperExecutionClient:
        return self.venue.execution

    async def run(self, on_step: StepCallback | None = None) -> BacktestResult:
        """Replay the bars (then release the input); the stores stay readable after."""
        try:
            return await run_backtest(
                self.kernel,
                self.clock,
                self.execution,
                self.stores.fills,
                self.data.batches,
                on_step=on_step,
            )
        finally:
            await self.close()

    async def close(self) -> None:
        await self.data.close()


async def prepare_backtest(settings: Settings, request: BacktestRequest) -> PreparedBacktest:
    """The request's bars, strategy and account, wired into a kernel on in-memory stores."""
    account = account_model(request.account)
    account_paper(settings, request, account)  # bad cash or commission: before any reading
    calendar = account.calendar() or calendar_for_venue("KRX")
    data = await open_bar_input(settings, request.bars, calendar, account)
    try:
        strategy = create_strategy(
            request.strategy,
            strategy_id=request.strategy_id or f"backtest-{request.strategy}",
            instruments=[instrument.key for instrument in data.instruments],
            params=request.params,
        )
        # Published outbox rows are kept for inspection; a backtest has nobody to look.
        stores = MemoryStore(keep_published=False)
        return prepare_run(settings, request, data, strategy, stores)
    except BaseException:
        await data.close()
        raise


def account_paper(
    settings: Settings, request: BacktestRequest, account: AccountModel
) -> PaperConfig:
    """The paper venue of the request's account, cash, slippage and commission."""
    slippage = parse_slippage(request.slippage)
    cash = account.default_cash(settings) if request.cash is None else request.cash
    if cash <= 0:
        raise ConfigurationError(f"--cash {cash}: starting cash must be positive")
    if request.commission is not None and not 0 <= request.commission < 1:
        raise ConfigurationError(f"--commission {request.commission}: a fraction in [0, 1)")
    return account.paper(settings, cash, slippage, request.commission)


def prepare_run(
    settings: Settings,
    request: BacktestRequest,
    data: BacktestData,
    strategy: Strategy,
    stores: TradingStores,
) -> PreparedBacktest:
    """The one wiring of a backtest (``jts backtest run`` and research runs alike)."""
    account = account_model(request.account)
    paper = account_paper(settings, request, account)
    by_id = {instrument.key: instrument for instrument in data.instruments}
    clock = SimClock()
    bus = DirectMessageBus(dedupe_window=settings.bus.dedupe_window)
    signals = SignalLog().attach(bus)
    venue = build_paper_venue(
        clock, paper, instruments=data.instruments, source=(), calendar=account.calendar()
    )
    kernel = build_trading_kernel(
        KernelPorts(
            bus=bus,
            clock=clock,
            orders=stores.orders,
            outbox=stores.outbox,
            fills=stores.fills,
            positions=stores.positions,
            strategy_records=stores.strategies,
            execution_client=venue.execution,
            bar_store=None,
            instruments=by_id,
            strategies=[strategy],
        ),
        account.kernel_config(settings, paper, len(by_id), checked=request.bars.kind != "store"),
    )
    return PreparedBacktest(
        request=request,
        settings=settings,
        data=data,
        kernel=kernel,
        clock=clock,
        stores=stores,
        paper=paper,
        strategy_id=strategy.strategy_id,
        params=dict(strategy.params.model_dump(mode="json")),
        venue=venue,
        signals=signals,
    )


@dataclass(frozen=True, slots=True)
class BacktestReport:
    run: BacktestRun
    result: BacktestResult
    trades_path: Path
    signals_path: Path
    orders_path: Path
    equity_path: Path
    chart_path: Path | None
    fingerprint_path: Path


def new_run_id() -> str:
    return str(uuid.uuid4())


def default_out_dir(data_dir: Path, run_id: str) -> Path:
    return data_dir / "backtests" / run_id


def run_record(
    prepared: PreparedBacktest, result: BacktestResult, run_id: str, out_dir: Path
) -> BacktestRun:
    metrics = result.metrics
    return BacktestRun(
        run_id=run_id,
        created_at=datetime.now(UTC),
        strategy=prepared.request.strategy,
        strategy_id=prepared.strategy_id,
        params=prepared.params,
        symbols=symbols_of(prepared.data.instruments),
        start_ts=result.start_ts,
        end_ts=result.end_ts,
        account=prepared.request.account,
        slippage=prepared.paper.slippage,
        source=prepared.data.description,
        starting_cash=metrics.starting_equity,
        final_equity=metrics.final_equity,
        total_return=metrics.total_return,
        max_drawdown=metrics.max_drawdown,
        sharpe=metrics.sharpe,
        trades=metrics.trades,
        fills=metrics.fills,
        commission=metrics.commission,
        tax=metrics.tax,
        fingerprint=result.fingerprint,
        output_dir=str(out_dir),
    )


def write_report_files(
    run: BacktestRun,
    result: BacktestResult,
    out_dir: Path,
    signals: Sequence[Signal] = (),
    orders: Sequence[Order] = (),
) -> BacktestReport:
    """trades, signals, orders and equity (Parquet), equity.svg, fingerprint.txt, summary.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    trades = write_fills_parquet(out_dir / "trades.parquet", result.fills)
    signals_path = write_signals_parquet(out_dir / "signals.parquet", signals)
    orders_path = write_orders_parquet(out_dir / "orders.parquet", orders)
    equity = write_equity_parquet(out_dir / "equity.parquet", result.equity)
    curve = EquityCurve(capacity=_CHART_POINTS)
    for ts, value in result.equity:
        curve.add(ts, value)
    shown = ", ".join(run.symbols) if len(run.symbols) <= 5 else f"{len(run.symbols)} symbols"
    title = f"JTS backtest {run.strategy} ({shown}): equity and drawdown"
    chart = write_equity_svg(out_dir / "equity.svg", curve.curve(), title)
    fingerprint = out_dir / "fingerprint.txt"
    fingerprint.write_text(result.fingerprint + "\n", encoding="utf-8")
    (out_dir / "summary.json").write_text(
        json.dumps(summary_json(run), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return BacktestReport(
        run, result, trades, signals_path, orders_path, equity, chart, fingerprint
    )


def summary_json(run: BacktestRun) -> dict[str, object]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else decimal_text(value)

    return {
        "run_id": run.run_id,
        "created_at": run.created_at.isoformat(),
        "strategy": run.strategy,
        "params": dict(run.params),
        "symbols": list(run.symbols),
        "start_ts": run.start_ts,
        "end_ts": run.end_ts,
        "account": run.account,
        "slippage": run.slippage,
        "source": run.source,
        "starting_cash": money(run.starting_cash),
        "final_equity": money(run.final_equity),
        "total_return": money(run.total_return),
        "max_drawdown": money(run.max_drawdown),
        "sharpe": money(run.sharpe),
        "trades": run.trades,
        "fills": run.fills,
        "commission": money(run.commission),
        "tax": money(run.tax),
        "fingerprint": run.fingerprint,
    }


async def record_run(settings: Settings, run: BacktestRun) -> None:
    """Keep the run in the data folder's relational store (SQLite, or JTS_DATABASE_URL)."""
    if sqlite_path(settings.sql_url) is not None:
        prepare_data_dir(settings.data_dir)
    await asyncio.to_thread(upgrade, settings.sql_url)
    store = SqlStore.open(settings.sql_url)
    try:
        await store.backtest_runs.add(run)
    finally:
        await store.close()


async def finish_backtest(
    prepared: PreparedBacktest, result: BacktestResult, run_id: str | None = None
) -> BacktestReport:
    """Write the report files and record the run."""
    run_id = run_id or new_run_id()
    out_dir = prepared.request.out_dir
    if out_dir is None:
        out_dir = default_out_dir(prepare_data_dir(prepared.settings.data_dir), run_id)
    run = run_record(prepared, result, run_id, out_dir)
    orders = sorted(
        await prepared.stores.orders.list(), key=lambda o: (o.created_ts, o.client_order_id)
    )
    report = write_report_files(run, result, out_dir, prepared.signals.signals, orders)
    await record_run(prepared.settings, run)
    return report


async def list_runs(settings: Settings, limit: int | None = None) -> list[BacktestRun]:
    """Stored runs, newest first; reads only (no database yet: none)."""
    path = sqlite_path(settings.sql_url)
    if path is not None and not path.expanduser().exists():
        return []
    await asyncio.to_thread(check_schema_current, settings.sql_url, read_only=True)
    store = SqlStore.open(settings.sql_url, read_only=True)
    try:
        return await store.backtest_runs.list(limit=limit)
    finally:
        await store.close()
