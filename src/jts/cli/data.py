"""``jts data import``, ``check`` and ``delete``: bars in and out of the time-series store.

All three use the validation live bars pass (``jts.core.bar_checks``), with the
wall clock as the latest time a bar may open: the CLI is an edge and may read
it. An import streams its file in chunks, so memory stays flat whatever its size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.table import Table

from jts.app.checks import bar_checks
from jts.app.datadir import prepare_data_dir
from jts.app.settings import Settings
from jts.core.bar_checks import EARLIEST_NS
from jts.core.bar_checks import LATEST_NS
from jts.core.bar_checks import describe_ts
from jts.core.bar_checks import ns_in_zone
from jts.core.clocks import LiveClock
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import KRX
from jts.domain.timestamps import dt_to_ns
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.files import BarChunk
from jts.storage.files import RowError
from jts.storage.files import iter_bar_file

KST = ZoneInfo("Asia/Seoul")
# Rows listed per table; the rest are counted.
SHOWN = 50


@dataclass(slots=True)
class _Tally:
    """Totals over a file's chunks, keeping only the first rejected and flagged rows."""

    rows: int = 0
    kept: int = 0
    written: int = 0
    rejected: int = 0
    flagged: int = 0
    errors: list[RowError] = field(default_factory=list)
    flags: list[RowError] = field(default_factory=list)

    def add(self, chunk: BarChunk, written: int) -> None:
        self.rows += chunk.rows_read
        self.kept += len(chunk.bars)
        self.written += written
        self.rejected += len(chunk.errors)
        self.flagged += len(chunk.flags)
        self.errors += chunk.errors[: SHOWN - len(self.errors)]
        self.flags += chunk.flags[: SHOWN - len(self.flags)]


async def import_bars(settings: Settings, console: Console, path: Path, symbol: str | None) -> int:
    """Stream ``path`` into the store; the exit code is 1 when every row was rejected."""
    checks = bar_checks(settings, not_after_ns=LiveClock().timestamp_ns())
    # The file's shape is checked here, before the store is opened.
    chunks = await asyncio.to_thread(iter_bar_file, path, checks=checks, default_symbol=symbol)
    tally = _Tally()
    if settings.clickhouse_url is None:
        prepare_data_dir(settings.data_dir)
    store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    try:
        with _file_progress(console) as progress:
            task = progress.add_task("import", total=None, amount="")
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                tally.add(chunk, await store.write_bars(chunk.bars))
                progress.update(
                    task, completed=chunk.position, total=chunk.total, amount=_amount(chunk)
                )
    finally:
        await store.close()
    _row_table(console, f"{tally.rejected:,} rejected rows", tally.errors, tally.rejected)
    _row_table(
        console, f"{tally.flagged:,} flagged rows (kept)", tally.flags, tally.flagged, "note"
    )
    console.print(
        f"read {tally.rows:,} rows from {path}: imported {tally.written:,} bars, "
        f"{tally.kept - tally.written:,} already stored, {tally.rejected:,} rejected"
        + (f", {tally.flagged:,} flagged" if tally.flagged else "")
    )
    if tally.rows and not tally.kept:
        console.print("[bold red]every row was rejected[/]: nothing imported")
        return 1
    return 0


def _file_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]import[/]"),
        BarColumn(),
        TextColumn("{task.fields[amount]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _amount(chunk: BarChunk) -> str:
    if chunk.unit == "bytes":
        return f"{chunk.position / 1e6:,.1f}/{chunk.total / 1e6:,.1f} MB"
    return f"{chunk.position:,}/{chunk.total:,} rows"


def _row_table(
    console: Console, title: str, rows: list[RowError], total: int, column: str = "reason"
) -> None:
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    table.add_column("line", justify="right")
    table.add_column(column)
    for row in rows:
        table.add_row(str(row.line), escape(row.message))
    if total > len(rows):
        table.add_row("...", f"{total - len(rows):,} more")
    console.print(table)


@dataclass(frozen=True, slots=True)
class _Finding:
    instrument_id: str
    ts: int
    message: str


async def check_bars(
    settings: Settings,
    console: Console,
    symbols: list[str],
    start: str | None,
    end: str | None,
    *,
    delete: bool,
    yes: bool,
) -> int:
    """List stored bars the checks refuse; with ``delete``, remove them. Exit 1 if any remain."""
    start_ns, end_ns = parse_time(start, "--start"), parse_time(end, "--end")
    checks = bar_checks(settings, not_after_ns=LiveClock().timestamp_ns())
    store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    bad: list[_Finding] = []
    flagged: list[_Finding] = []
    scanned = 0
    try:
        ids = [canonical(s) for s in symbols] or await store.instruments()
        for instrument_id in ids:
            async for page in store.scan_bars(instrument_id, start_ns, end_ns):
                scanned += len(page)
                for row in page:
                    verdict = checks.check(
                        row.instrument_id, row.ts, row.open, row.high, row.low, row.close,
                        row.volume,
                    )  # fmt: skip
                    if verdict.problem is not None:
                        bad.append(_Finding(instrument_id, row.ts, verdict.problem))
                    elif verdict.flag is not None:
                        flagged.append(_Finding(instrument_id, row.ts, verdict.flag))
        _finding_table(console, f"{len(bad):,} bad bars", bad, "reason")
        _finding_table(console, f"{len(flagged):,} flagged bars (kept)", flagged, "note")
        console.print(
            f"checked {scanned:,} bars of {len(ids):,} instruments: "
            f"{len(bad):,} bad, {len(flagged):,} flagged"
        )
        if not bad:
            return 0
        if not delete:
            console.print("remove them with [bold]jts data check --delete[/]")
            return 1
        if not yes and not typer.confirm(f"Delete the {len(bad):,} bad bars?", default=False):
            console.print("nothing deleted")
            return 1
        removed = 0
        for instrument_id, stamps in _by_instrument(bad):
            removed += await store.delete_minutes(instrument_id, stamps)
        console.print(f"deleted {removed:,} bad bars")
        return 0
    finally:
        await store.close()


async def delete_bars(
    settings: Settings,
    console: Console,
    symbol: str,
    start: str | None,
    end: str | None,
    *,
    yes: bool,
) -> int:
    """Remove one instrument's bars, optionally in ``[start, end)``, after confirmation."""
    instrument_id = canonical(symbol)
    start_ns, end_ns = parse_time(start, "--start"), parse_time(end, "--end")
    span = _describe_span(start, end)
    store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    try:
        count = await store.count_bars(instrument_id, start_ns, end_ns)
        if not count:
            console.print(f"no bars of {escape(instrument_id)}{span} stored: nothing deleted")
            return 0
        question = f"Delete {count:,} bars of {instrument_id}{span}?"
        if not yes and not typer.confirm(question, default=False):
            console.print("nothing deleted")
            return 1
        removed = await store.delete_bars(instrument_id, start_ns, end_ns)
    finally:
        await store.close()
    console.print(f"deleted {removed:,} bars of {escape(instrument_id)}{span}")
    return 0


def canonical(symbol: str) -> str:
    """``VENUE:CODE`` as given (a stored bad id must stay deletable); a bare code is KRX's."""
    text = symbol.strip()
    if ":" not in text:
        return f"{KRX}:{text}"
    venue, _, code = text.partition(":")
    return f"{venue.upper()}:{code}"


def parse_time(value: str | None, option: str) -> int | None:
    """An ISO-8601 time with an offset, or a date meaning its midnight in KST."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return dt_to_ns(datetime(day.year, day.month, day.day, tzinfo=KST))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"{option} {value!r}: write a date (2026-03-03, midnight KST) or an ISO time "
            "with an offset (2026-03-03T09:00:00+09:00)"
        ) from None
    if moment.tzinfo is None:
        raise ConfigurationError(f"{option} {value!r} has no UTC offset (e.g. +09:00)")
    return dt_to_ns(moment)


def when(ts: int) -> str:
    """A bar's time in KST, or in UTC as stored when it is outside the years the store keeps."""
    if not EARLIEST_NS <= ts < LATEST_NS:
        return describe_ts(ts)
    return ns_in_zone(ts, "Asia/Seoul").strftime("%Y-%m-%d %H:%M %a KST")


def _finding_table(console: Console, title: str, found: list[_Finding], column: str) -> None:
    if not found:
        return
    table = Table(title=title, title_justify="left")
    table.add_column("symbol")
    table.add_column("time")
    table.add_column(column)
    for item in found[:SHOWN]:
        table.add_row(escape(item.instrument_id), when(item.ts), escape(item.message))
    if len(found) > SHOWN:
        table.add_row("...", "", f"{len(found) - SHOWN:,} more")
    console.print(table)


def _by_instrument(found: list[_Finding]) -> Iterator[tuple[str, list[int]]]:
    groups: dict[str, list[int]] = {}
    for item in found:
        groups.setdefault(item.instrument_id, []).append(item.ts)
    yield from groups.items()


def _describe_span(start: str | None, end: str | None) -> str:
    if start is None and end is None:
        return ""
    return f" from {start or 'the first'} to {end or 'the last'}"
