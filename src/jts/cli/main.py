"""The ``jts`` command line."""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import ParamSpec
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from jts.app.datadir import prepare_data_dir
from jts.app.logs import configure_logging
from jts.app.platform import fresh_demo_dir
from jts.app.settings import Settings
from jts.app.settings import load_settings
from jts.cli import commands
from jts.cli import data
from jts.domain.errors import JtsError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help="JTS: automated trading for Korean equities and crypto.",
    no_args_is_help=True,
    # A bug's traceback must not print locals: KIS headers and SQL parameters are among them.
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Relational database schema.", no_args_is_help=True)
orders_app = typer.Typer(help="Orders in the relational store.", no_args_is_help=True)
data_app = typer.Typer(help="Market data in the time-series store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orders_app, name="orders")
brokers_app = typer.Typer(help="Broker accounts, budgets and health.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(brokers_app, name="brokers")
backtest_app = typer.Typer(
    help="Replay recorded bars through a strategy and the platform.", no_args_is_help=True
)
app.add_typer(backtest_app, name="backtest")

console = Console()
errors = Console(stderr=True)


def _friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Show JTS errors as one clear message and exit 2, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except JtsError as exc:
            # Messages quote user input ("[env JTS_...]", file rows): never parse them as markup.
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _settings(**overrides: Any) -> Settings:
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, json=settings.log_json)
    return settings


@app.command()
@_friendly
def demo(
    sessions: Annotated[
        int | None,
        typer.Option(help="Trading sessions to simulate \\[default: feed.sessions].", min=1),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the simulated market \\[default: feed.seed].")
    ] = None,
) -> None:
    """Run the whole platform on simulated KRX data at accelerated market time, then report."""
    base = load_settings()
    # An option given on the command line wins; otherwise the settings (file, env) decide.
    chosen = {"sessions": sessions, "seed": seed}
    feed = {**base.feed.model_dump(), **{k: v for k, v in chosen.items() if v is not None}}
    settings = _settings(
        data_dir=fresh_demo_dir(prepare_data_dir(base.data_dir)),
        database_url=None,
        clickhouse_url=None,
        feed=feed,
    )
    summary = asyncio.run(commands.run_demo(settings, console))
    if not summary.books.balanced:
        raise typer.Exit(1)


@app.command()
@_friendly
def run(
    speed: Annotated[
        float | None, typer.Option(help="Simulated minutes per second (0 = flat out).", min=0)
    ] = None,
    sessions: Annotated[
        int | None, typer.Option(help="Stop after this many sessions (default: never).", min=1)
    ] = None,
) -> None:
    """Paper-trade until stopped (Ctrl-C or SIGTERM stop it cleanly); resumes where it left off."""
    settings = _settings()
    pace = settings.feed.speed if speed is None else speed
    asyncio.run(_run_until_signal(settings, pace, sessions))


async def _run_until_signal(settings: Settings, pace: float, sessions: int | None) -> None:
    stop = _stop_on_signals()
    await commands.run_paper(
        settings, console, stop=stop, minutes_per_second=pace, sessions=sessions
    )


@app.command()
@_friendly
def serve(
    service: Annotated[
        str,
        typer.Argument(
            help="market-data, strategy-engine, order-execution, portfolio, paper-venue, or all."
        ),
    ],
    sessions: Annotated[
        int | None,
        typer.Option(help="market-data: stop the feed after this many sessions.", min=1),
    ] = None,
) -> None:
    """Run one service as a long-lived process over Kafka, with /health; SIGTERM stops it."""
    settings = load_settings()
    # A service's logs are read by machines: JSON lines at INFO unless configured otherwise.
    configure_logging(
        settings.log_level if "log_level" in settings.model_fields_set else "INFO",
        json=settings.log_json if "log_json" in settings.model_fields_set else True,
    )
    if service == "all":
        code = asyncio.run(_serve_all_until_signal(sessions))
        raise typer.Exit(code)
    asyncio.run(_serve_until_signal(service, settings, sessions))


async def _serve_until_signal(service: str, settings: Settings, sessions: int | None) -> None:
    # Imported here: the embedded commands need neither Kafka nor an HTTP server.
    from jts.app.serve import serve as serve_service

    stop = _stop_on_signals()
    await serve_service(service, settings, stop, sessions=sessions)


async def _serve_all_until_signal(sessions: int | None) -> int:
    from jts.app.supervisor import serve_all

    return await serve_all(_stop_on_signals(), sessions=sessions)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@db_app.command("upgrade")
@_friendly
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations up to REVISION."""
    settings = _settings()
    commands.db_upgrade(settings, revision, console)


@db_app.command("current")
@_friendly
def db_current() -> None:
    """Show the database's migration revision."""
    commands.db_current(_settings(), console)


@orders_app.command("list")
@_friendly
def orders_list(
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Only these statuses.")
    ] = None,
    symbol: Annotated[
        str | None, typer.Option(help="Only this instrument: KRX:005930, or 005930 for KRX.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
) -> None:
    """List orders, newest first."""
    asyncio.run(commands.list_orders(_settings(), console, status, symbol, limit))


@orders_app.command("halts")
@_friendly
def orders_halts() -> None:
    """Accounts halted after an order or cancel this platform did not make, and why."""
    asyncio.run(commands.show_halts(_settings(), console))


@orders_app.command("resume")
@_friendly
def orders_resume(
    account: Annotated[str, typer.Argument(help="The halted account, e.g. paper.")],
    reason: Annotated[str, typer.Option(help="Why trading may resume (recorded).")],
) -> None:
    """Let a halted account place orders again, after checking it; the resume is recorded."""
    asyncio.run(commands.resume_trading(_settings(), console, account, reason))


@data_app.command("import")
@_friendly
def data_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of one-minute OHLCV bars.")],
    symbol: Annotated[
        str | None, typer.Option(help="Instrument id for files without a symbol column.")
    ] = None,
) -> None:
    """Load one-minute bars into the time-series store; bad rows are reported and skipped."""
    raise typer.Exit(asyncio.run(data.import_bars(_settings(), console, file, symbol)))


@data_app.command("check")
@_friendly
def data_check(
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="Only this instrument (repeat).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="From this date or ISO time.")] = None,
    end: Annotated[str | None, typer.Option(help="Before this date or ISO time.")] = None,
    delete: Annotated[bool, typer.Option(help="Delete the bad bars found.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking.")] = False,
) -> None:
    """Check stored bars as imports are checked; exit 1 while any bad bar remains."""
    settings = _settings()
    code = asyncio.run(
        data.check_bars(settings, console, symbol or [], start, end, delete=delete, yes=yes)
    )
    raise typer.Exit(code)


@data_app.command("delete")
@_friendly
def data_delete(
    symbol: Annotated[str, typer.Option(help="Instrument, e.g. KRX:005930.")],
    start: Annotated[str | None, typer.Option(help="From this date or ISO time.")] = None,
    end: Annotated[str | None, typer.Option(help="Before this date or ISO time.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking.")] = False,
) -> None:
    """Delete an instrument's stored bars (all, or from --start to before --end)."""
    code = asyncio.run(data.delete_bars(_settings(), console, symbol, start, end, yes=yes))
    raise typer.Exit(code)


@data_app.command("backfill")
@_friendly
def data_backfill(
    source: Annotated[str, typer.Option(help="Broker to take history from: kis or creon.")],
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="Instrument, e.g. KRX:005930 (repeat).")
    ] = None,
    sessions: Annotated[int, typer.Option(help="Recent sessions to check.", min=1)] = 1,
) -> None:
    """Fill the time-series store's missing one-minute bars from a broker's candles."""
    asyncio.run(commands.backfill_bars(_settings(), console, source, symbol or [], sessions))


@backtest_app.command("run")
@_friendly
def backtest_run(
    strategy: Annotated[
        str | None, typer.Option(help="Registered strategy name \\[default: strategy.name].")
    ] = None,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--params",
            help="Strategy parameters: a JSON object or name=value (repeat) "
            "\\[default: strategy.params for the configured strategy].",
        ),
    ] = None,
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbols", help="Only these instruments: KRX:005930 or 005930 (repeat, or a,b)."
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day (KST), e.g. 2026-11-02.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (KST), inclusive.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Bars from this CSV file.")] = None,
    parquet: Annotated[Path | None, typer.Option(help="Bars from this Parquet file.")] = None,
    cash: Annotated[
        str | None,
        typer.Option(help="Starting cash \\[default: paper.starting_cash; research: 10,000]."),
    ] = None,
    slippage: Annotated[
        str | None,
        typer.Option(help="none, ticks:N, bps:X or volume:F \\[default: paper.slippage]."),
    ] = None,
    account: Annotated[
        str,
        typer.Option(
            help="Account model: krx (KRX fees, taxes and rules) or research (no lot, tick, "
            "limit or calendar rules, fractional quantities, all-cash orders, any timeframe)."
        ),
    ] = "krx",
    commission: Annotated[
        str | None,
        typer.Option(
            help="Commission per side as a fraction of the notional, e.g. 0.001 "
            "\\[default: the account's; research: 0]."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the report files \\[default: <data_dir>/backtests/<id>]."),
    ] = None,
) -> None:
    """Backtest a strategy over recorded bars (the data folder's store, a CSV or Parquet)."""
    from jts.app.backtest import BacktestRequest
    from jts.cli import backtest

    settings = _settings()
    name = strategy or settings.strategy.name
    given = backtest.parse_params(params or [])
    chosen = given if params or name != settings.strategy.name else dict(settings.strategy.params)
    configured = name == settings.strategy.name and chosen == dict(settings.strategy.params)
    request = BacktestRequest(
        strategy=name,
        params=chosen,
        bars=backtest.bar_input(
            csv,
            parquet,
            backtest.parse_symbols(symbols or [], backtest.account_venue(account)),
            backtest.parse_day(start, "--from"),
            backtest.parse_day(end, "--to"),
        ),
        cash=backtest.parse_cash(cash),
        slippage=settings.paper.slippage if slippage is None else slippage,
        account=account,
        commission=backtest.parse_commission(commission),
        out_dir=out,
        # The configured strategy keeps its id: its signals and orders get the ids a paper
        # run of it gave them, so the two can be compared decision by decision.
        strategy_id=settings.strategy.id if configured else None,
    )
    asyncio.run(backtest.run_backtest_command(settings, console, request))


@backtest_app.command("list")
@_friendly
def backtest_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
) -> None:
    """Stored backtest runs: strategy, data, return, drawdown, Sharpe and fingerprint."""
    from jts.cli import backtest

    asyncio.run(backtest.list_backtests(_settings(), console, limit))


@app.command()
@_friendly
def doctor(
    repair: Annotated[
        bool, typer.Option(help="Apply the repairs offered (each asked for, unless --yes).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Apply every offered repair unasked.")] = False,
) -> None:
    """Check the data folder for what a crash or an old version left inconsistent."""
    from jts.cli.doctor import run_doctor

    def confirm(question: str) -> bool:
        return yes or typer.confirm(question, default=False)

    healthy = asyncio.run(run_doctor(_settings(), console, repair=repair, confirm=confirm))
    if not healthy:
        raise typer.Exit(1)


@brokers_app.command("pool")
@_friendly
def brokers_pool(
    check: Annotated[
        bool, typer.Option(help="Log every account in now (issues or reuses its token).")
    ] = False,
) -> None:
    """How the universe is split over the KIS accounts, their rate budgets and health."""
    from jts.cli.brokers import show_pool

    show_pool(_settings(), console, check=check)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
