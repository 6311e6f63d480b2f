"""What each CLI command does, separated from argument parsing."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.table import Table

from jts.app.platform import Platform
from jts.app.platform import open_platform
from jts.app.plot import write_equity_svg
from jts.app.settings import Settings
from jts.app.summary import RunSummary
from jts.app.summary import summarise
from jts.cli.render import render_orders
from jts.cli.render import render_summary
from jts.domain.enums import OrderStatus
from jts.domain.errors import ConfigurationError
from jts.domain.reports import MarketDataBatch
from jts.domain.timestamps import ns_to_dt
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.sql.migrate import check_schema_current
from jts.storage.sql.migrate import current_revision
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore

KST = ZoneInfo("Asia/Seoul")


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
    _write_chart(console, platform, settings, "demo")
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
    _write_chart(console, platform, settings, "paper-run")
    if stop.is_set():
        console.print("stopped cleanly: stores flushed and closed")
    return summary


def _write_chart(console: Console, platform: Platform, settings: Settings, name: str) -> None:
    path = settings.data_dir / "reports" / f"{name}-equity.svg"
    if write_equity_svg(path, platform.equity.points, f"JTS {name}: equity and drawdown"):
        console.print(f"equity curve and drawdown chart: {path}")


async def _run_with_progress(
    platform: Platform,
    console: Console,
    *,
    stop: asyncio.Event | None = None,
    minutes_per_second: float = 0.0,
) -> None:
    columns = (
        TextColumn("[bold blue]{task.fields[market_time]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bars {task.fields[bars]:,}  signals {task.fields[signals]:,}"),
        TextColumn("orders {task.fields[orders]:,}  fills {task.fields[fills]:,}"),
        TimeElapsedColumn(),
    )
    kernel = platform.kernel
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
            local = ns_to_dt(batch.ts).astimezone(KST)
            progress.update(
                task,
                advance=1,
                market_time=local.strftime("%Y-%m-%d %H:%M KST"),
                bars=kernel.collector.stats.bars,
                signals=kernel.strategy_engine.stats.signals,
                orders=kernel.execution.stats.orders,
                fills=kernel.execution.stats.fills,
            )

        await platform.run(stop=stop, minutes_per_second=minutes_per_second, on_step=on_step)


def db_upgrade(settings: Settings, revision: str, console: Console) -> None:
    upgrade(settings.sql_url, revision)
    console.print(f"database at revision {current_revision(settings.sql_url)}")


def db_current(settings: Settings, console: Console) -> None:
    console.print(current_revision(settings.sql_url) or "empty database (run `jts db upgrade`)")


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
    check_schema_current(settings.sql_url)
    store = SqlStore.open(settings.sql_url)
    try:
        orders = await store.orders.list(statuses=wanted, instrument_id=symbol, limit=limit)
    finally:
        await store.close()
    render_orders(console, orders)


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
    from jts.app.venues import broker_market_data
    from jts.app.venues import broker_symbols
    from jts.app.venues import recent_sessions
    from jts.brokers.common.calendars import calendar_for_venue
    from jts.core.clocks import LiveClock

    wanted = symbols or broker_symbols(settings, source)
    if not wanted:
        raise ConfigurationError(f"backfill from {source}: no symbols (give --symbol)")
    client = broker_market_data(settings, source)
    calendar = calendar_for_venue("KRX")
    clock = LiveClock()
    days = recent_sessions(calendar, clock.utc_now().date(), sessions)
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
