"""``jts backtest run`` and ``jts backtest list``: options, progress and the printed report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from datetime import date
from datetime import tzinfo
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.table import Table

from jts.app.backtest import BacktestReport
from jts.app.backtest import BacktestRequest
from jts.app.backtest import PreparedBacktest
from jts.app.backtest import finish_backtest
from jts.app.backtest import list_runs
from jts.app.backtest import prepare_backtest
from jts.app.backtest_accounts import ACCOUNTS
from jts.app.backtest_data import BarInput
from jts.app.backtest_data import InputKind
from jts.app.settings import Settings
from jts.backtest.replay import BacktestResult
from jts.cli.data import canonical
from jts.cli.progress import Counts
from jts.cli.progress import PlainProgress
from jts.cli.progress import market_time
from jts.cli.render import money
from jts.cli.render import print_whole
from jts.cli.render import qty
from jts.domain.backtests import BacktestRun
from jts.domain.errors import ConfigurationError
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import KST
from jts.domain.timestamps import ns_to_dt

# Fills listed in the printed trade list; trades.parquet has them all.
SHOWN_FILLS = 50


def parse_params(values: Sequence[str]) -> dict[str, object]:
    """Each value a JSON object or ``name=value`` (the value read as JSON when it is JSON)."""
    params: dict[str, object] = {}
    for raw in values:
        text = raw.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigurationError(f"--params {raw!r}: not a JSON object ({exc})") from None
            if not isinstance(parsed, dict):
                raise ConfigurationError(f"--params {raw!r}: not a JSON object")
            params.update(parsed)
            continue
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--params {raw!r}: write name=value or a JSON object")
        try:
            params[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[name.strip()] = value
    return params


def parse_symbols(values: Sequence[str], venue: str = "KRX") -> tuple[str, ...]:
    """Repeated or comma-separated; a bare code is ``venue``'s (005930 -> KRX:005930)."""
    found = [
        canonical(part if ":" in part else f"{venue}:{part.strip()}")
        for value in values
        for part in value.split(",")
        if part.strip()
    ]
    return tuple(dict.fromkeys(found))


def account_venue(name: str) -> str:
    """The venue of a bare symbol on this account (an unknown account is refused later)."""
    model = ACCOUNTS.get(name)
    return "KRX" if model is None else model.venue


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigurationError(f"{option} {value!r}: write a date, e.g. 2026-11-03") from None


def parse_cash(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        cash = Decimal(value.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise ConfigurationError(f"--cash {value!r}: not a number") from None
    if not cash.is_finite() or cash <= 0:
        raise ConfigurationError(f"--cash {value!r}: starting cash must be positive")
    return cash


def parse_commission(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        rate = Decimal(value.strip())
    except InvalidOperation:
        raise ConfigurationError(f"--commission {value!r}: not a number (e.g. 0.001)") from None
    if not rate.is_finite() or not 0 <= rate < 1:
        raise ConfigurationError(f"--commission {value}: a fraction in [0, 1)")
    return rate


def bar_input(
    csv: Path | None,
    parquet: Path | None,
    symbols: tuple[str, ...],
    start: date | None,
    end: date | None,
) -> BarInput:
    if csv is not None and parquet is not None:
        raise ConfigurationError("give --csv or --parquet, not both")
    kind: InputKind = "csv" if csv is not None else "parquet" if parquet is not None else "store"
    return BarInput(kind, csv or parquet, symbols, start, end)


async def run_backtest_command(
    settings: Settings, console: Console, request: BacktestRequest
) -> BacktestReport:
    prepared = await prepare_backtest(settings, request)
    console.print(
        f"[bold]JTS backtest[/] of {escape(request.strategy)} "
        f"{escape(json.dumps(prepared.params, sort_keys=True))} on "
        f"{escape(prepared.data.description)}; account {escape(request.account)}, "
        f"slippage {escape(prepared.paper.slippage)}",
        highlight=False,
        soft_wrap=True,
    )
    result = await _run_with_progress(prepared, console)
    report = await finish_backtest(prepared, result)
    render_report(console, report)
    return report


async def _run_with_progress(prepared: PreparedBacktest, console: Console) -> BacktestResult:
    kernel = prepared.kernel
    total = prepared.data.planned_minutes
    if not console.is_terminal:
        plain = PlainProgress(console, total, lambda: Counts.of(kernel))
        try:
            return await prepared.run(plain.on_step)
        finally:
            plain.finish()
    columns = (
        TextColumn("[bold blue]{task.fields[market_time]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bars {task.fields[bars]:,}  signals {task.fields[signals]:,}"),
        TextColumn("orders {task.fields[orders]:,}  fills {task.fields[fills]:,}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            "backtest", total=total, market_time="", bars=0, signals=0, orders=0, fills=0
        )

        def on_step(batch: MarketDataBatch) -> None:
            counts = Counts.of(kernel)
            progress.update(
                task,
                advance=1,
                market_time=market_time(batch.ts),
                bars=counts.bars,
                signals=counts.signals,
                orders=counts.orders,
                fills=counts.fills,
            )

        result = await prepared.run(on_step)
        # A store replay plans the calendar's minutes; gaps in the data end it short.
        progress.update(task, total=result.steps, completed=result.steps)
        return result


def _when(ts: int, zone: tzinfo = KST) -> str:
    return ns_to_dt(ts).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _shown_in(account: str) -> tuple[tzinfo, str, int]:
    """Time zone, its name and money decimals: KRX in KST and whole won, research in UTC."""
    return (UTC, "UTC", 2) if account == "research" else (KST, "KST", 0)


def _percent(value: Decimal) -> str:
    return f"{value:.2%}"


def _sharpe(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_report(console: Console, report: BacktestReport) -> None:
    run, result = report.run, report.result
    zone, zone_name, places = _shown_in(run.account)
    summary = Table(title="JTS backtest summary", title_justify="left", box=None, show_header=False)
    summary.add_column("", style="bold")
    summary.add_column("")
    rows = [
        ("run", run.run_id),
        ("strategy", f"{run.strategy} {json.dumps(dict(run.params), sort_keys=True)}"),
        ("symbols", ", ".join(run.symbols)),
        ("account", run.account),
        ("market time", f"{_when(run.start_ts, zone)} .. {_when(run.end_ts, zone)} {zone_name}"),
        ("minutes" if run.account != "research" else "bar times", f"{result.steps:,}"),
        ("starting cash", money(run.starting_cash, places)),
        ("final equity", money(run.final_equity, places)),
        ("total return", _percent(run.total_return)),
        ("max drawdown", _percent(run.max_drawdown)),
        ("Sharpe (daily, annualised)", _sharpe(run.sharpe)),
        ("trades / fills", f"{run.trades:,} / {run.fills:,}"),
        ("commission", money(run.commission, places)),
        ("tax", money(run.tax, places)),
        ("fingerprint", run.fingerprint),
    ]
    for name, value in rows:
        summary.add_row(name, escape(value))
    print_whole(console, summary)
    _render_fills(console, result, zone, zone_name, places)
    console.print(f"trade list: {report.trades_path}", highlight=False, soft_wrap=True)
    console.print(
        f"signals and orders: {report.signals_path}, {report.orders_path}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"equity curve: {report.equity_path}", highlight=False, soft_wrap=True)
    if report.chart_path is not None:
        console.print(f"equity and drawdown chart: {report.chart_path}", soft_wrap=True)
    console.print(f"fingerprint {run.fingerprint}", highlight=False, soft_wrap=True)


def _render_fills(
    console: Console, result: BacktestResult, zone: tzinfo, zone_name: str, places: int
) -> None:
    if not result.fills:
        console.print("no fills")
        return
    table = Table(title=f"{len(result.fills):,} fills", title_justify="left")
    for column in (
        f"time ({zone_name})",
        "symbol",
        "side",
        "quantity",
        "price",
        "commission",
        "tax",
    ):
        table.add_column(column, justify="right" if column not in ("symbol", "side") else "left")
    for fill in result.fills[:SHOWN_FILLS]:
        table.add_row(
            _when(fill.ts, zone),
            fill.instrument_id,
            fill.side.value,
            qty(fill.quantity),
            qty(fill.price),
            money(fill.commission, places),
            money(fill.tax, places),
        )
    if len(result.fills) > SHOWN_FILLS:
        table.add_row("...", f"{len(result.fills) - SHOWN_FILLS:,} more", "", "", "", "", "")
    print_whole(console, table)


async def list_backtests(settings: Settings, console: Console, limit: int) -> None:
    runs = await list_runs(settings, limit)
    if not runs:
        console.print("no backtest runs stored yet (run one with `jts backtest run`)")
        return
    print_whole(console, runs_table(runs))


def runs_table(runs: Sequence[BacktestRun]) -> Table:
    table = Table(title=f"{len(runs)} backtest run(s), newest first", title_justify="left")
    columns = (
        "id",
        "when (UTC)",
        "strategy",
        "params",
        "symbols",
        "market time",
        "return",
        "max dd",
        "Sharpe",
        "trades",
        "fingerprint",
    )
    for column in columns:
        table.add_column(column, justify="right" if column in ("return", "max dd") else "left")
    for run in runs:
        zone, zone_name, _ = _shown_in(run.account)
        table.add_row(
            run.run_id[:8],
            run.created_at.strftime("%Y-%m-%d %H:%M"),
            escape(run.strategy),
            escape(json.dumps(dict(run.params), sort_keys=True)),
            escape(", ".join(run.symbols)),
            f"{_when(run.start_ts, zone)} .. {_when(run.end_ts, zone)} {zone_name}",
            _percent(run.total_return),
            _percent(run.max_drawdown),
            _sharpe(run.sharpe),
            f"{run.trades:,}",
            run.fingerprint[:16],
        )
    return table
