"""The bars a backtest replays: a CSV file, a Parquet file, or the data folder's store.

Whatever the input, the result is the same stream: one batch per minute holding that
minute's bars of every symbol, in market time, so CSV, Parquet and the store give the
same run. The account decides what the bars are of (``jts.app.backtest_accounts``):
KRX instruments in one-minute bars, or research instruments in bars of any timeframe.
Files are read whole and checked as ``jts data import`` checks them (bad rows
are reported and skipped); the store is read a day at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Literal

from jts.app.backtest_accounts import AccountModel
from jts.app.settings import Settings
from jts.app.sources import session_minutes
from jts.brokers.paper.data import BatchSource
from jts.brokers.paper.data import batches_from_bars
from jts.brokers.paper.data import store_batches
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.timestamps import KST
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import kst_date
from jts.ports import TradingCalendar
from jts.sim.fees import krx_tax_schedule_start
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.clickhouse.store import chdb_path
from jts.storage.files import read_bar_file

log = logging.getLogger("jts.app")

InputKind = Literal["csv", "parquet", "store"]
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True, slots=True)
class BarInput:
    """Where the bars come from and which of them: symbols (all if empty), KST dates inclusive."""

    kind: InputKind = "store"
    path: Path | None = None
    symbols: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None


@dataclass(slots=True)
class BacktestData:
    instruments: list[Instrument]
    batches: BatchSource
    # Minutes the progress bar expects (a store replay counts the calendar's minutes).
    planned_minutes: int | None
    description: str
    store: ClickHouseBarStore | None = None

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
            self.store = None


def day_start_ns(day: date) -> int:
    """Midnight in Seoul: KRX days begin there."""
    return dt_to_ns(datetime(day.year, day.month, day.day, tzinfo=KST))


def _window(bar_input: BarInput) -> tuple[int | None, int | None]:
    start, end = bar_input.start, bar_input.end
    if start is not None and end is not None and end < start:
        raise ConfigurationError(f"--to {end} is before --from {start}")
    return (
        None if start is None else day_start_ns(start),
        None if end is None else day_start_ns(end + timedelta(days=1)),
    )


def _refuse_before_fee_schedule(first_day: date, what: str) -> None:
    known = krx_tax_schedule_start()
    if first_day < known:
        raise ConfigurationError(
            f"{what} starts on {first_day}, before the KRX tax schedule ({known}): its sales "
            f"could not be costed; backtest from {known} on (--from)"
        )


async def open_bar_input(
    settings: Settings, bar_input: BarInput, calendar: TradingCalendar, account: AccountModel
) -> BacktestData:
    if bar_input.kind == "store":
        return await _store_input(settings, bar_input, calendar, account)
    if bar_input.path is None:
        raise ConfigurationError(f"--{bar_input.kind} needs a file")
    return await _file_input(settings, bar_input, bar_input.path, account)


def bars_input(
    bars: Sequence[Bar], instruments: Sequence[Instrument], description: str
) -> BacktestData:
    """Bars already in memory (a research run's), as the same stream a file gives."""
    batches = batches_from_bars(bars)
    return BacktestData(
        instruments=list(instruments),
        batches=batches,
        planned_minutes=len(batches),
        description=description,
    )


def _check_kind(path: Path, kind: InputKind) -> None:
    if not path.is_file():
        raise ConfigurationError(f"--{kind} {path}: no such file")
    with path.open("rb") as handle:
        is_parquet = handle.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC
    if is_parquet != (kind == "parquet"):
        found = "a Parquet" if is_parquet else "not a Parquet"
        other = "--parquet" if is_parquet else "--csv"
        raise ConfigurationError(f"--{kind} {path}: {found} file (use {other})")


def _default_symbol(bar_input: BarInput, path: Path, account: AccountModel) -> str:
    """Rows without a symbol: the one ``--symbols`` names, else the file's name (GOOG.csv)."""
    if len(bar_input.symbols) == 1:
        return bar_input.symbols[0]
    return f"{account.venue}:{path.stem.upper()}"


async def _file_input(
    settings: Settings, bar_input: BarInput, path: Path, account: AccountModel
) -> BacktestData:
    _check_kind(path, bar_input.kind)
    result = await asyncio.to_thread(
        read_bar_file,
        path,
        checks=account.bar_checks(settings),
        default_symbol=_default_symbol(bar_input, path, account),
        daily=account.research,
    )
    for error in result.errors[:20]:
        log.warning("%s line %d skipped: %s", path, error.line, error.message)
    start_ns, end_ns = _window(bar_input)
    wanted = set(bar_input.symbols)
    bars = [
        bar
        for bar in result.bars
        if (not wanted or bar.instrument_id in wanted)
        and (start_ns is None or bar.ts >= start_ns)
        and (end_ns is None or bar.ts < end_ns)
    ]
    if not bars:
        raise ConfigurationError(f"{path}: no valid bars for these symbols and dates")
    if not account.research:  # a research account charges no tax
        _refuse_before_fee_schedule(kst_date(min(bar.ts for bar in bars)), str(path))
    if len({bar.timeframe for bar in bars}) > 1:
        raise ConfigurationError(f"{path}: mixes daily and minute bars; give one timeframe")
    ids = sorted({bar.instrument_id for bar in bars})
    missing = sorted(wanted - set(ids))
    if missing:
        raise ConfigurationError(f"{path}: no bars of {', '.join(missing)}")
    batches = batches_from_bars(bars)
    skipped = f", {len(result.errors):,} bad rows skipped" if result.errors else ""
    return BacktestData(
        instruments=account.instruments(ids),
        batches=batches,
        planned_minutes=len(batches),
        description=f"{path.name}: {len(bars):,} bars of {len(ids)} symbols{skipped}",
    )


async def _store_input(
    settings: Settings, bar_input: BarInput, calendar: TradingCalendar, account: AccountModel
) -> BacktestData:
    if settings.clickhouse_url is None and not chdb_path(settings.data_dir).exists():
        raise ConfigurationError(
            f"no time-series store in {settings.data_dir}: import bars first "
            "(`jts data import FILE`), or backtest a file with --csv or --parquet"
        )
    store = await ClickHouseBarStore.open(settings.clickhouse_url, settings.data_dir)
    try:
        return await _store_data(store, bar_input, calendar, account)
    except BaseException:
        await store.close()
        raise


async def _store_data(
    store: ClickHouseBarStore,
    bar_input: BarInput,
    calendar: TradingCalendar,
    account: AccountModel,
) -> BacktestData:
    stored = await store.instruments()
    ids = list(bar_input.symbols) or stored
    missing = [key for key in ids if key not in stored]
    if not ids or missing:
        what = ", ".join(missing) if missing else "any symbol"
        raise ConfigurationError(f"the time-series store has no bars of {what}")
    start_ns, end_ns = _window(bar_input)
    if start_ns is None:
        start_ns = min([ts for key in ids if (ts := await _first_ts(store, key)) is not None])
    if end_ns is None:
        latest = await store.latest_bars(ids)
        end_ns = max(bar.ts for bar in latest.values()) + 1
    if end_ns <= start_ns:
        raise ConfigurationError("no stored bars for these dates")
    first, last = kst_date(start_ns), kst_date(end_ns - 1)
    if not account.research:
        _refuse_before_fee_schedule(first, "the stored data")
    days = calendar.sessions(first, last)
    return BacktestData(
        instruments=account.instruments(ids),
        batches=store_batches(store, ids, start_ns, end_ns, Timeframe.M1),
        planned_minutes=session_minutes(calendar, days) or None,
        description=f"the time-series store: {len(ids)} symbols, {first}..{last}",
        store=store,
    )


async def _first_ts(store: ClickHouseBarStore, instrument_id: str) -> int | None:
    async for page in store.scan_bars(instrument_id, page=1):
        return page[0].ts if page else None
    return None


def symbols_of(instruments: Sequence[Instrument]) -> tuple[str, ...]:
    return tuple(instrument.key for instrument in instruments)
