"""The BarStore on ClickHouse: the in-process chDB engine by default, a server by URL.

clickhouse-connect offers chDB only through its synchronous client, so every call
runs in a worker thread, one at a time per store. chDB also runs a single engine
per process, bound to one data directory: every store opened on the embedded
engine shares one process-wide lock, and opening a second directory fails until
every client of the first is closed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import TypeVar

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import Error as ClickHouseClientError

from jts.domain.errors import ConfigurationError
from jts.domain.errors import DataError
from jts.domain.errors import StorageError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_MILLI
from jts.domain.timestamps import ns_to_dt
from jts.storage.clickhouse.schema import COUNT_DISTINCT
from jts.storage.clickhouse.schema import COUNT_SELECTION
from jts.storage.clickhouse.schema import COUNT_STAMPS
from jts.storage.clickhouse.schema import DELETE_SELECTION
from jts.storage.clickhouse.schema import DELETE_STAMPS
from jts.storage.clickhouse.schema import EXISTING_TIMESTAMPS
from jts.storage.clickhouse.schema import INSTRUMENTS
from jts.storage.clickhouse.schema import LATEST_BARS
from jts.storage.clickhouse.schema import MARKET_DATA
from jts.storage.clickhouse.schema import MARKET_DATA_COLUMNS
from jts.storage.clickhouse.schema import MARKET_DATA_TYPES
from jts.storage.clickhouse.schema import READ_AGGREGATED_BARS
from jts.storage.clickhouse.schema import READ_MINUTE_BARS
from jts.storage.clickhouse.schema import SCAN_BARS
from jts.storage.clickhouse.schema import create_schema

T = TypeVar("T")

# The embedded engine is one per process, so its clients share one lock.
CHDB_LOCK = threading.Lock()

_MAX_UINT64 = 2**64 - 1

Row = tuple[int, str, float, float, float, float, int]

# Epoch milliseconds bounding a selection with no range given (the Int64 column range).
_FIRST_MS = -(2**63)
_LAST_MS = 2**63 - 1


@dataclass(frozen=True, slots=True)
class StoredBar:
    """A row of ``market_data`` as stored, even one no ``Bar`` could hold (a 0.0 price)."""

    instrument_id: str
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def chdb_path(data_dir: Path) -> Path:
    """Where the embedded engine keeps its data under the platform's data directory."""
    return (data_dir / "clickhouse").resolve()


def connect(url: str | None, data_dir: Path) -> tuple[Client, threading.Lock]:
    """A client for ``url`` (None: chDB under ``data_dir``) and the lock serialising it."""
    engine_output: list[str] = []
    try:
        if url is None:
            path = chdb_path(data_dir)
            _check_chdb_folder(path)
            with _engine_stderr_held(engine_output):
                client = clickhouse_connect.get_client(interface="chdb", path=str(path))
            return client, CHDB_LOCK
        if url.startswith("chdb:"):
            with _engine_stderr_held(engine_output):
                client = clickhouse_connect.get_client(dsn=url)
            return client, CHDB_LOCK
        if url.startswith(("http://", "https://")):
            return clickhouse_connect.get_client(dsn=url), threading.Lock()
    except ClickHouseClientError as exc:
        if "different path" in str(exc):
            raise StorageError(
                "chDB runs one engine per process on one data directory; close every store "
                f"on the directory already open before opening another ({exc})"
            ) from exc
        said = " ".join(line.strip() for line in engine_output if line.strip())
        raise StorageError(
            f"cannot connect to ClickHouse: {exc}" + (f" (the engine said: {said})" if said else "")
        ) from exc
    raise ConfigurationError(f"ClickHouse URL {url!r} must be http(s):// or chdb://")


def _check_chdb_folder(path: Path) -> None:
    """Refuse a folder chDB cannot write before opening it: its C++ side prints raw errors."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StorageError(
            f"the chDB data folder {path} is not writable ({exc.strerror or exc}); "
            "set data_dir (JTS_DATA_DIR) to a folder you can write"
        ) from None


@contextmanager
def _engine_stderr_held(output: list[str]) -> Iterator[None]:
    """Hold back what is written to fd 2 while chDB opens (its engine writes there directly).

    On success the held text is written out as it came (other threads' log lines among
    it); on failure it goes into ``output`` for the error message instead.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            held = sink.read()
            if failed:
                output.extend(held.decode("utf-8", "replace").splitlines())
            elif held:
                os.write(2, held)


class ClickHouseBarStore:
    """One-minute bars in ``market_data``; higher timeframes are aggregated on read."""

    def __init__(
        self,
        client: Client,
        *,
        batch_size: int = 10_000,
        lock: threading.Lock | None = None,
    ) -> None:
        """Wrap ``client``, whose current database must already hold ``market_data``."""
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be positive, got {batch_size}")
        self._client = client
        self._batch_size = batch_size
        self._lock = lock or threading.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str | None,
        data_dir: Path,
        database: str = "jts",
        batch_size: int = 10_000,
    ) -> ClickHouseBarStore:
        """Connect (chDB in ``data_dir/clickhouse`` when ``url`` is None) and create the schema."""
        client, lock = await asyncio.to_thread(connect, url, data_dir)
        store = cls(client, batch_size=batch_size, lock=lock)
        try:
            await store._call(create_schema, client, database)
        except BaseException:
            await store.close()
            raise
        return store

    async def write_bars(self, bars: Sequence[Bar]) -> int:
        rows: dict[tuple[str, int], Row] = {}
        for bar in bars:
            row = _to_row(bar)
            rows.setdefault((row[1], row[0]), row)
        if not rows:
            return 0
        return await self._call(self._insert_new, rows)

    async def read_bars(
        self,
        instrument_id: str,
        start_ns: int,
        end_ns: int,
        timeframe: Timeframe = Timeframe.M1,
    ) -> list[Bar]:
        # A bar belongs to the range by its own (bucket) open time, so both bounds are
        # rounded up to the timeframe: buckets are whole, never cut at the edges.
        step = timeframe.nanos if timeframe is not Timeframe.M1 else NANOS_PER_MILLI
        start_ms = _ceil_div(start_ns, step) * step // NANOS_PER_MILLI
        end_ms = _ceil_div(end_ns, step) * step // NANOS_PER_MILLI
        if end_ms <= start_ms:
            return []
        params: dict[str, Any] = {"symbol": instrument_id, "start_ms": start_ms, "end_ms": end_ms}
        if timeframe is Timeframe.M1:
            sql = READ_MINUTE_BARS
        else:
            sql = READ_AGGREGATED_BARS
            params["bucket_ms"] = timeframe.nanos // NANOS_PER_MILLI
        rows = await self._call(self._rows, sql, params)
        return [_to_bar(instrument_id, timeframe, row[0], row[1:]) for row in rows]

    async def latest_bars(self, instrument_ids: Sequence[str] | None = None) -> dict[str, Bar]:
        if instrument_ids is None:
            sql, params = LATEST_BARS.format(where=""), {}
        elif not instrument_ids:
            return {}
        else:
            where = "WHERE symbol IN {symbols:Array(String)}"
            sql, params = LATEST_BARS.format(where=where), {"symbols": list(instrument_ids)}
        rows = await self._call(self._rows, sql, params)
        return {
            symbol: _to_bar(symbol, Timeframe.M1, ts_ms, values) for symbol, ts_ms, values in rows
        }

    async def instruments(self) -> list[str]:
        rows = await self._call(self._rows, INSTRUMENTS, {})
        return [row[0] for row in rows]

    async def count(self, instrument_id: str | None = None) -> int:
        """Distinct bars stored (of one instrument, or all)."""
        if instrument_id is None:
            sql, params = COUNT_DISTINCT.format(where=""), {}
        else:
            where = "WHERE symbol = {symbol:String}"
            sql, params = COUNT_DISTINCT.format(where=where), {"symbol": instrument_id}
        rows = await self._call(self._rows, sql, params)
        return int(rows[0][0])

    async def scan_bars(
        self,
        instrument_id: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        *,
        page: int = 10_000,
    ) -> AsyncIterator[list[StoredBar]]:
        """Every stored minute of ``instrument_id`` as stored, in time order, a page at a time.

        Values are not checked (``jts data check`` does that): a price is whatever the
        Float64 holds, infinity included.
        """
        if page < 1:
            raise ConfigurationError(f"page must be positive, got {page}")
        after, end_ms = _selection(start_ns, end_ns)
        while True:
            params = {"symbol": instrument_id, "start_ms": after, "end_ms": end_ms, "limit": page}
            rows = await self._call(self._rows, SCAN_BARS, params)
            if rows:
                yield [_to_stored(instrument_id, row) for row in rows]
            if len(rows) < page:
                return
            after = int(rows[-1][0]) + 1

    async def count_bars(
        self, instrument_id: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> int:
        """Distinct minutes of ``instrument_id`` stored in ``[start_ns, end_ns)``."""
        start_ms, end_ms = _selection(start_ns, end_ns)
        params = {"symbol": instrument_id, "start_ms": start_ms, "end_ms": end_ms}
        rows = await self._call(self._rows, COUNT_SELECTION, params)
        return int(rows[0][0])

    async def delete_bars(
        self, instrument_id: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> int:
        """Remove the bars of ``instrument_id`` in ``[start_ns, end_ns)`` (all without a
        range); returns how many distinct minutes were removed."""
        start_ms, end_ms = _selection(start_ns, end_ns)
        params = {"symbol": instrument_id, "start_ms": start_ms, "end_ms": end_ms}
        return await self._call(self._delete, COUNT_SELECTION, DELETE_SELECTION, params)

    async def delete_minutes(self, instrument_id: str, stamps_ns: Sequence[int]) -> int:
        """Remove the bars of ``instrument_id`` opening at exactly these times."""
        removed = 0
        stamps = sorted({ts // NANOS_PER_MILLI for ts in stamps_ns})
        for start in range(0, len(stamps), self._batch_size):
            params = {"symbol": instrument_id, "stamps": stamps[start : start + self._batch_size]}
            removed += await self._call(self._delete, COUNT_STAMPS, DELETE_STAMPS, params)
        return removed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._locked, self._client.close)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StorageError("the bar store is closed")
        return await asyncio.to_thread(self._locked, fn, *args)

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            try:
                return fn(*args)
            except ClickHouseClientError as exc:
                raise StorageError(f"ClickHouse: {exc}") from exc

    def _rows(self, sql: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        result: Sequence[Sequence[Any]] = self._client.query(sql, parameters=params).result_rows
        return result

    def _delete(self, count_sql: str, delete_sql: str, params: dict[str, Any]) -> int:
        """Count then delete under the lock, so the count is what the delete removed."""
        count = int(self._rows(count_sql, params)[0][0])
        if count:
            self._client.command(delete_sql, parameters=params)
        return count

    def _insert_new(self, rows: dict[tuple[str, int], Row]) -> int:
        """Insert the rows not stored yet; runs under the lock so the check holds."""
        stamps = [key[1] for key in rows]
        existing = self._rows(
            EXISTING_TIMESTAMPS,
            {
                "symbols": sorted({key[0] for key in rows}),
                "first_ms": min(stamps),
                "last_ms": max(stamps),
            },
        )
        for symbol, ts_ms in existing:
            rows.pop((symbol, ts_ms), None)
        fresh = list(rows.values())
        for start in range(0, len(fresh), self._batch_size):
            self._client.insert(
                MARKET_DATA,
                fresh[start : start + self._batch_size],
                column_names=list(MARKET_DATA_COLUMNS),
                column_type_names=list(MARKET_DATA_TYPES),
            )
        return len(fresh)


def _selection(start_ns: int | None, end_ns: int | None) -> tuple[int, int]:
    """``[start, end)`` in epoch milliseconds; a missing bound is open."""
    start_ms = _FIRST_MS if start_ns is None else _ceil_div(start_ns, NANOS_PER_MILLI)
    end_ms = _LAST_MS if end_ns is None else _ceil_div(end_ns, NANOS_PER_MILLI)
    return start_ms, end_ms


def _to_stored(instrument_id: str, row: Sequence[Any]) -> StoredBar:
    ts_ms, open_, high, low, close, volume = row
    return StoredBar(
        instrument_id=instrument_id,
        ts=int(ts_ms) * NANOS_PER_MILLI,
        open=Decimal(repr(float(open_))),
        high=Decimal(repr(float(high))),
        low=Decimal(repr(float(low))),
        close=Decimal(repr(float(close))),
        volume=Decimal(int(volume)),
    )


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _to_row(bar: Bar) -> Row:
    """The table row of ``bar``, or DataError when the table cannot hold it faithfully."""

    def refuse(reason: str) -> DataError:
        return DataError(f"bar {bar.instrument_id}@{ns_to_dt(bar.ts).isoformat()}: {reason}")

    if bar.timeframe is not Timeframe.M1:
        raise refuse(f"market_data holds one-minute bars, not {bar.timeframe.value}")
    if bar.ts % NANOS_PER_MILLI:
        raise refuse(f"timestamp {bar.ts} ns is finer than the table's milliseconds")
    prices = (bar.open, bar.high, bar.low, bar.close)
    if not all(price.is_finite() for price in prices):
        raise refuse("prices must be finite")
    volume = bar.volume
    if not volume.is_finite() or volume < 0 or volume != volume.to_integral_value():
        raise refuse(f"volume {volume} is not a whole non-negative number (UInt64 column)")
    if volume > _MAX_UINT64:
        raise refuse(f"volume {volume} exceeds UInt64")
    return (
        bar.ts // NANOS_PER_MILLI,
        bar.instrument_id,
        float(bar.open),
        float(bar.high),
        float(bar.low),
        float(bar.close),
        int(volume),
    )


def _to_bar(instrument_id: str, timeframe: Timeframe, ts_ms: int, values: Sequence[Any]) -> Bar:
    row = _to_stored(instrument_id, (ts_ms, *values))
    return Bar(instrument_id, timeframe, row.ts, row.open, row.high, row.low, row.close, row.volume)
