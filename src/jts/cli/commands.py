"""What each CLI command does, separated from argument parsing."""

from __future__ import annotations

import asyncio
import getpass
import logging
import time

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.table import Table

from jts.app.datadir import prepare_data_dir
from jts.app.platform import Platform
from jts.app.platform import open_platform
from jts.app.plot import write_equity_svg
from jts.app.settings import Settings
from jts.app.summary import RunSummary
from jts.app.summary import summarise
from jts.cli.progress import Counts
from jts.cli.progress import PlainProgress
from jts.cli.progress import market_time
from jts.cli.render import render_orders
from jts.cli.render import render_summary
from jts.cli.symbols import instrument_argument
from jts.domain.enums import OrderStatus
from jts.domain.errors import ConfigurationError
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import KST
from jts.domain.timestamps import ns_to_dt
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.halts import FileHaltStore
from jts.storage.sql.engine import sqlite_path
from jts.storage.sql.migrate import check_schema_current
from jts.storage.sql.migrate import current_revision
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore


async def run_demo(settings: Settings, console: Console) -> RunSummary:
    platform = await open_platform(settings)
    console.print(
        f"[bold]JTS demo[/]: paper trading on the {platform.source.description}; "
        f"data in {settings.data_dir}"
    )
    try:
        await _run_with_progress(platform, console)
        summary = await summarise(platform)
    finally:
        await platform.close()
    render_summary(console, summary, title="JTS demo summary")
    _write_chart(console, summary, settings, "demo")
    return summary


async def run_paper(
    settings: Settings,
    console: Console,
    *,
    stop: asyncio.Event,
    minutes_per_second: float,
    sessions: int | None,
) -> RunSummary:
    platform = await open_platform(settings, sessions=sessions, resume=True)
    console.print(
        f"[bold]JTS paper run[/] on the {platform.source.description}: "
        f"{minutes_per_second:g} market minutes per second (0 = flat out); "
        f"data in {settings.data_dir}. Ctrl-C or SIGTERM stops cleanly."
    )
    try:
        await _run_with_progress(
            platform,
            console,
            stop=stop,
            minutes_per_second=minutes_per_second,
        )
        summary = await summarise(platform)
    finally:
        await platform.close()
    render_summary(console, summary, title="JTS paper run summary")
    _write_chart(console, summary, settings, "paper-run")
    if stop.is_set():
        console.print("stopped cleanly: stores flushed and closed")
    return summary


def _write_chart(console: Console, summary: RunSummary, settings: Settings, name: str) -> None:
    path = settings.data_dir / "reports" / f"{name}-equity.svg"
    if write_equity_svg(path, summary.equity_points, f"JTS {name}: equity and drawdown"):
        console.print(f"equity curve and drawdown chart: {path}")


async def _run_with_progress(
    platform: Platform,
    console: Console,
    *,
    stop: asyncio.Event | None = None,
    minutes_per_second: float = 0.0,
) -> None:
    kernel = platform.kernel
    if not console.is_terminal:
        plain = PlainProgress(console, platform.source.planned_minutes, lambda: Counts.of(kernel))
        try:
            await platform.run(
                stop=stop, minutes_per_second=minutes_per_second, on_step=plain.on_step
            )
        finally:
            plain.finish()
        return
    columns = (
        TextColumn("[bold blue]{task.fields[market_time]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bars {task.fields[bars]:,}  signals {task.fields[signals]:,}"),
        TextColumn("orders {task.fields[orders]:,}  fills {task.fields[fills]:,}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(
            "market",
            total=platform.source.planned_minutes,
            market_time="",
            bars=0,
            signals=0,
            orders=0,
            fills=0,
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

        await platform.run(stop=stop, minutes_per_second=minutes_per_second, on_step=on_step)


def db_upgrade(settings: Settings, revision: str, console: Console) -> None:
    if "database_url" not in settings.model_fields_set:  # the SQLite file in the data folder
        prepare_data_dir(settings.data_dir)
    upgrade(settings.sql_url, revision)
    console.print(f"database at revision {current_revision(settings.sql_url)}")


def db_current(settings: Settings, console: Console) -> None:
    # Reads only: works on a read-only data folder and creates no database file.
    revision = current_revision(settings.sql_url, read_only=True)
    console.print(revision or "empty database (run `jts db upgrade`)")


async def list_orders(
    settings: Settings,
    console: Console,
    statuses: list[str] | None,
    symbol: str | None,
    limit: int,
) -> None:
    wanted = None
    if statuses:
        try:
            wanted = [OrderStatus(s.upper()) for s in statuses]
        except ValueError:
            known = ", ".join(s.value for s in OrderStatus)
            raise ConfigurationError(f"--status must be one of {known}") from None
    instrument_id = None if symbol is None else instrument_argument(symbol)
    _require_database(settings)
    # Reads only: works on a read-only data folder.
    check_schema_current(settings.sql_url, read_only=True)
    store = SqlStore.open(settings.sql_url, read_only=True)
    try:
        orders = await store.orders.list(statuses=wanted, instrument_id=instrument_id, limit=limit)
    finally:
        await store.close()
    render_orders(console, orders)


def _require_database(settings: Settings) -> None:
    """A read command on a data folder with no database says so (opening would create one)."""
    path = sqlite_path(settings.sql_url)
    if path is None or path.expanduser().exists():
        return
    demo = settings.data_dir / "demo"
    hint = (
        f"; the last demo's is in {demo} (set JTS_DATA_DIR={demo} to read it)"
        if (demo / path.name).exists()
        else ""
    )
    raise ConfigurationError(
        f"no database yet at {path}: nothing has run in this data folder "
        f"(`jts run` makes one, `jts db upgrade` an empty one){hint}"
    )


async def backfill_bars(
    settings: Settings,
    console: Console,
    source: str,
    symbols: list[str],
    sessions: int,
) -> None:
    """Fill the store's gaps from a live broker's candles, with a progress bar."""
    from jts.app.backfill import BackfillResult
    from jts.app.backfill import backfill
    from jts.app.checks import bar_checks
    from jts.app.venues import broker_market_data
    from jts.app.venues import broker_symbols
    from jts.app.venues import recent_sessions
    from jts.brokers.common.calendars import calendar_for_venue
    from jts.core.clocks import LiveClock

    wanted = [instrument_argument(s) for s in symbols] or broker_symbols(settings, source)
    if not wanted:
        raise ConfigurationError(f"backfill from {source}: no symbols (give --symbol)")
    client = broker_market_data(settings, source)
    calendar = calendar_for_venue("KRX")
    clock = LiveClock()
    days = recent_sessions(calendar, clock.utc_now().date(), sessions)
    if settings.clickhouse_url is None:
        prepare_data_dir(settings.data_dir)
    store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    results: list[BackfillResult] = []
    try:
        await client.connect()
        with Progress(
            TextColumn("[bold]backfill[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(source, total=len(wanted))

            def advance(result: BackfillResult) -> None:
                progress.update(task, advance=1, description=result.instrument_id)

            results = await backfill(
                client,
                store,
                calendar,
                wanted,
                days,
                now_ns=clock.timestamp_ns(),
                on_symbol=advance,
                checks=bar_checks(settings, not_after_ns=clock.timestamp_ns()),
            )
    finally:
        await client.disconnect()
        await store.close()
    table = Table(title=f"backfill from {source}, {len(days)} session(s)", title_justify="left")
    for column in ("symbol", "missing", "stored", "still missing", "error"):
        table.add_column(column, justify="left" if column in ("symbol", "error") else "right")
    for r in results:
        table.add_row(
            r.instrument_id,
            f"{r.missing:,}",
            f"{r.written:,}",
            f"{r.still_missing:,}",
            escape(r.error or ""),
        )
    console.print(table)


async def show_halts(settings: Settings, console: Console) -> None:
    halts = await FileHaltStore(settings.data_dir).all()
    if not halts:
        console.print("no account is halted")
        return
    for halt in halts.values():
        since = ns_to_dt(halt.since_ts).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")
        console.print(f"[bold red]{escape(halt.account)}[/] halted since {since}, ", end="")
        console.print(f"{halt.findings} finding(s):", highlight=False)
        for reason in halt.reasons:
            console.print(f"  - {escape(reason)}", highlight=False)


async def resume_trading(settings: Settings, console: Console, account: str, reason: str) -> None:
    if not reason.strip():
        raise ConfigurationError("--reason must say why trading may resume")
    by = getpass.getuser()
    store = FileHaltStore(settings.data_dir)
    ended = await store.resume(account, by=by, reason=reason.strip(), ts=time.time_ns())
    if ended is None:
        raise ConfigurationError(f"account {account} is not halted (see `jts orders halts`)")
    logging.getLogger("jts.cli").warning(
        "trading on %s resumed by %s: %s (halted for: %s)", account, by, reason, ended.summary
    )
    console.print(
        f"trading on {escape(account)} resumed; recorded in {escape(str(store.log_path))}",
        highlight=False,
    )
