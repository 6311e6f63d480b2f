"""OHLCV bar files (CSV or Parquet) for ``jts data import`` and replay feeds.

A bad row never sinks the file: it is reported with its line number and a reason
and the good rows are kept, so an operator can fix the few lines and import
again (the store skips what it already holds). A file whose shape is wrong (no
header, unknown columns, unreadable) is refused as a whole.

Every row goes through ``jts.core.bar_checks`` (the validation live bars pass):
a row the platform could not use is rejected, a row that jumps too far from the
previous close is kept and flagged. Files are read as a stream of chunks
(``iter_bar_file``), so an import holds one chunk in memory, not the file.

With ``daily=True`` (the research account's files) a time given as a plain date
(``2004-08-19``) is that day's daily bar, starting 00:00 UTC, and the time column may
be called ``date`` or left unnamed, as pandas writes its index (backtesting.py's
``GOOG.csv``: ``,Open,High,Low,Close,Volume``).

Line numbers are the file's own, 1-based, with the header on line 1. Parquet has
no lines, so its rows are numbered the same way: the first row is "line 2".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import IO
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from jts.core.bar_checks import BarChecks
from jts.domain.errors import DataError
from jts.domain.instruments import InstrumentId
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.market import bar_problem
from jts.domain.timestamps import NANOS_PER_MILLI
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import ms_to_ns
from jts.domain.timestamps import ns_to_dt

T = TypeVar("T")

COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")

_PARQUET_MAGIC = b"PAR1"
_EPOCH_MS = re.compile(r"-?\d+")
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CHUNK_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected (or flagged) row: where it is, why, and what it said."""

    line: int
    message: str
    raw: str


@dataclass(slots=True)
class BarChunk:
    """Consecutive rows of a file: the bars kept, the rows rejected and the rows flagged.

    ``position`` of ``total`` says how far the file is read, in ``unit``: bytes for
    CSV, rows for Parquet.
    """

    bars: list[Bar] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    flags: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    position: int = 0
    total: int = 0
    unit: str = "bytes"


@dataclass(slots=True)
class BarFileResult:
    bars: list[Bar] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    flags: list[RowError] = field(default_factory=list)
    rows_read: int = 0


def read_bar_file(
    path: Path, *, checks: BarChecks, default_symbol: str | None = None, daily: bool = False
) -> BarFileResult:
    """Every row of a CSV or Parquet file of one-minute bars, checked (all in memory)."""
    result = BarFileResult()
    for chunk in iter_bar_file(path, checks=checks, default_symbol=default_symbol, daily=daily):
        result.bars += chunk.bars
        result.errors += chunk.errors
        result.flags += chunk.flags
        result.rows_read += chunk.rows_read
    return result


def iter_bar_file(
    path: Path,
    *,
    checks: BarChecks,
    default_symbol: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    daily: bool = False,
) -> Iterator[BarChunk]:
    """Read one-minute bars from a CSV or Parquet file (told apart by content), in chunks.

    ``default_symbol`` is the instrument of rows without one (or of the whole file
    when it has no ``symbol`` column). The file's shape is checked before the first
    chunk: a wrong header raises DataError before any row is read.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")
    fallback = _check_default_symbol(default_symbol)
    try:
        with path.open("rb") as probe:
            magic = probe.read(4)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows = _Rows(checks, fallback, chunk_rows, daily)
    if magic == _PARQUET_MAGIC:
        return _read_parquet(path, rows)
    return _read_csv(path, rows)


class _Rows:
    """Turns parsed rows into chunks: each row checked, then kept, rejected or flagged."""

    def __init__(
        self, checks: BarChecks, fallback: str | None, chunk_rows: int, daily: bool = False
    ) -> None:
        self.checks = checks
        self.fallback = fallback
        self.chunk_rows = chunk_rows
        self.daily = daily
        self.chunk = BarChunk()

    def reject(self, line: int, message: str, raw: str) -> None:
        self.chunk.rows_read += 1
        self.chunk.errors.append(RowError(line, message, raw))

    def add(self, line: int, raw: str, row: Mapping[str, object]) -> None:
        self.chunk.rows_read += 1
        try:
            bar = _parse_row(row, self.fallback, self.daily)
        except _RowRejected as exc:
            self.chunk.errors.append(RowError(line, str(exc), raw))
            return
        verdict = self.checks.check_bar(bar)
        if verdict.problem is not None:
            self.chunk.errors.append(RowError(line, verdict.problem, raw))
            return
        self.chunk.bars.append(bar)
        if verdict.flag is not None:
            self.chunk.flags.append(RowError(line, verdict.flag, raw))

    def full(self) -> bool:
        return self.chunk.rows_read >= self.chunk_rows

    def take(self, position: int, total: int, unit: str = "bytes") -> BarChunk:
        chunk, self.chunk = self.chunk, BarChunk()
        chunk.position, chunk.total, chunk.unit = position, total, unit
        return chunk


def write_bar_csv(path: Path, bars: Iterable[Bar]) -> int:
    """Write one-minute bars in the format ``read_bar_file`` reads; returns the row count."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for bar in bars:
            _require_minute_bar(bar)
            writer.writerow(
                (
                    ns_to_dt(bar.ts).isoformat(),
                    bar.instrument_id,
                    str(bar.open),
                    str(bar.high),
                    str(bar.low),
                    str(bar.close),
                    str(bar.volume),
                )
            )
            count += 1
    return count


def write_bar_parquet(path: Path, bars: Sequence[Bar]) -> int:
    """Write one-minute bars as Parquet: UTC timestamps, prices as decimal strings."""
    for bar in bars:
        _require_minute_bar(bar)
    table = pa.table(
        {
            "timestamp": pa.array(
                [bar.ts // NANOS_PER_MILLI for bar in bars], type=pa.timestamp("ms", tz="UTC")
            ),
            "symbol": pa.array([bar.instrument_id for bar in bars], type=pa.string()),
            **{
                name: pa.array([str(getattr(bar, name)) for bar in bars], type=pa.string())
                for name in (*PRICE_COLUMNS, "volume")
            },
        }
    )
    pq.write_table(table, path)
    return len(bars)


def _require_minute_bar(bar: Bar) -> None:
    if bar.timeframe is not Timeframe.M1:
        raise DataError(
            f"bar {bar.instrument_id}@{bar.ts}: bar files hold one-minute bars, "
            f"not {bar.timeframe.value}"
        )


def _check_default_symbol(symbol: str | None) -> str | None:
    if symbol is None:
        return None
    try:
        return str(InstrumentId.parse(symbol.strip()))
    except ValueError as exc:
        raise DataError(f"default symbol: {exc}") from exc


def _names(header: Sequence[str], daily: bool) -> list[str]:
    """Column names as compared; a daily file's time column may be ``date`` or unnamed."""
    names = [name.strip().lower() for name in header]
    if daily and "timestamp" not in names:
        for alias in ("date", ""):
            if names.count(alias) == 1:
                names[names.index(alias)] = "timestamp"
                break
    return names


def _check_header(names: Sequence[str], fallback: str | None, path: Path) -> None:
    expected = ", ".join(COLUMNS)
    if not names or all(not name for name in names):
        raise DataError(f"{path}: no header row (expected columns {expected})")
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        looks_like_data = any(_EPOCH_MS.fullmatch(n) or n[:1].isdigit() for n in names)
        hint = "no header row" if looks_like_data else f"unknown columns {unknown}"
        raise DataError(f"{path}: {hint} (expected columns {expected})")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: repeated columns {repeated}")
    required = [c for c in COLUMNS if c != "symbol" or fallback is None]
    missing = [c for c in required if c not in names]
    if missing:
        extra = " (or pass a default symbol)" if missing == ["symbol"] else ""
        raise DataError(f"{path}: missing columns {missing}{extra}")


def _read_csv(path: Path, rows: _Rows) -> Iterator[BarChunk]:
    try:
        binary = path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        total = path.stat().st_size
        handle = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        tap = _LineTap(handle)
        reader = csv.reader(tap)
        header = _guard(path, lambda: next(reader, None))
        if header is None:
            raise DataError(f"{path}: empty file (expected a header row {', '.join(COLUMNS)})")
        names = _names(header or (), rows.daily)
        _check_header(names, rows.fallback, path)
    except BaseException:
        binary.close()
        raise
    return _csv_chunks(path, binary, reader, tap, names, rows, total)


def _csv_chunks(
    path: Path,
    binary: IO[bytes],
    reader: Iterator[list[str]],
    tap: _LineTap,
    names: list[str],
    rows: _Rows,
    total: int,
) -> Iterator[BarChunk]:
    with binary:
        records = _records(reader, tap)
        while True:
            cells = _guard(path, lambda: next(records, None))
            if cells is None:
                break
            raw = tap.raw()
            line = tap.first_line(reader.line_num)  # type: ignore[attr-defined]
            if len(cells) != len(names):
                rows.reject(line, f"{len(cells)} fields where the header has {len(names)}", raw)
            else:
                rows.add(line, raw, dict(zip(names, cells, strict=True)))
            if rows.full():
                yield rows.take(binary.tell(), total)
        yield rows.take(total, total)


def _guard(path: Path, step: Callable[[], T]) -> T:
    """One read step of a CSV file, its failures as DataError naming the file."""
    try:
        return step()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV: {exc}") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc


class _LineTap:
    """Hands lines to the csv reader and remembers them, to report a row's raw text."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._lines: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._handle)
        self._lines.append(line)
        return line

    def first_line(self, last_line: int) -> int:
        """The line a record started on, given the one it ended on (quoted newlines)."""
        return last_line - len(self._lines) + 1

    def raw(self) -> str:
        return "".join(self._lines).rstrip("\r\n")

    def reset(self) -> None:
        self._lines.clear()


def _records(reader: Iterator[list[str]], tap: _LineTap) -> Iterator[list[str]]:
    """Non-blank records, each with only its own lines left in ``tap``."""
    while True:
        tap.reset()
        cells = next(reader, None)
        if cells is None:
            return
        if cells and any(cell.strip() for cell in cells):
            yield cells


def _read_parquet(path: Path, rows: _Rows) -> Iterator[BarChunk]:
    try:
        parquet = pq.ParquetFile(path)
        names = _names(parquet.schema_arrow.names, rows.daily)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}") from exc
    try:
        _check_header(names, rows.fallback, path)
    except DataError:
        parquet.close()
        raise
    return _parquet_chunks(path, parquet, names, rows)


def _parquet_chunks(
    path: Path, parquet: pq.ParquetFile, names: list[str], rows: _Rows
) -> Iterator[BarChunk]:
    total = parquet.metadata.num_rows
    line = 1
    try:
        for batch in parquet.iter_batches(batch_size=rows.chunk_rows):
            columns = [column.to_pylist() for column in batch.columns]
            for values in zip(*columns, strict=True):
                line += 1
                row = dict(zip(names, values, strict=True))
                raw = ", ".join(f"{name}={value!r}" for name, value in row.items())
                rows.add(line, raw, row)
            yield rows.take(line - 1, total, "rows")
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}") from exc
    finally:
        parquet.close()
    if rows.chunk.rows_read or total == 0:
        yield rows.take(total, total, "rows")


class _RowRejected(Exception):
    """Why one row is not a bar."""


def _parse_row(row: Mapping[str, object], fallback: str | None, daily: bool = False) -> Bar:
    symbol = _parse_symbol(row.get("symbol"), fallback)
    value = row.get("timestamp")
    day = _plain_date(value) if daily else None
    timeframe = Timeframe.M1 if day is None else Timeframe.D1
    ts = _parse_timestamp(value) if day is None else day
    open_, high, low, close, volume = (
        _parse_number(name, row.get(name)) for name in (*PRICE_COLUMNS, "volume")
    )
    problem = bar_problem(open_, high, low, close, volume)
    if problem:
        raise _RowRejected(problem)
    return Bar(symbol, timeframe, ts, open_, high, low, close, volume)


def _plain_date(value: object) -> int | None:
    """00:00 UTC of a plain date (``2004-08-19``, or a date cell), or None for anything else."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and _PLAIN_DATE.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return dt_to_ns(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_symbol(value: object, fallback: str | None) -> str:
    if _is_blank(value):
        if fallback is None:
            raise _RowRejected("missing value for symbol")
        return fallback
    text = str(value).strip()
    if any(char.isspace() or not char.isprintable() for char in text):
        raise _RowRejected(f"instrument id {text!r} contains spaces or control characters")
    try:
        return str(InstrumentId.parse(text))
    except ValueError as exc:
        raise _RowRejected(str(exc)) from exc


def _parse_timestamp(value: object) -> int:
    if _is_blank(value):
        raise _RowRejected("missing value for timestamp")
    if isinstance(value, bool):
        raise _RowRejected(f"timestamp {value!r} is not a time")
    if isinstance(value, int):
        ns = ms_to_ns(value)
    elif isinstance(value, str) and _EPOCH_MS.fullmatch(value.strip()):
        ns = ms_to_ns(int(value.strip()))
    elif isinstance(value, str | datetime):
        ns = _parse_datetime(value)
    else:
        raise _RowRejected(f"timestamp {value!r} is not a time")
    return ns


def _parse_datetime(value: str | datetime) -> int:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _RowRejected(
                f"timestamp {value!r} is neither ISO-8601 nor epoch milliseconds"
            ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise _RowRejected(
            f"timestamp {value.isoformat()} has no UTC offset; "
            "write it as e.g. 2024-01-02T09:00:00+09:00 or in epoch milliseconds"
        )
    return dt_to_ns(value)


def _parse_number(name: str, value: object) -> Decimal:
    if _is_blank(value):
        raise _RowRejected(f"missing value for {name}")
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        if isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        else:
            number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _RowRejected(f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise _RowRejected(f"{name} {value!r} is not a finite number")
    return number
