"""Reading and writing OHLCV bar files: every bad row named by its line, good rows kept."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jts.brokers.common.calendars import known_calendar
from jts.core.bar_checks import BarChecks
from jts.domain.errors import DataError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import ns_to_dt
from jts.storage.files import BarFileResult
from jts.storage.files import RowError
from jts.storage.files import iter_bar_file
from jts.storage.files import read_bar_file
from jts.storage.files import write_bar_csv
from jts.storage.files import write_bar_parquet

T0 = dt_to_ns(datetime(2024, 1, 3, 0, 0, tzinfo=UTC))  # 09:00 KST, a Wednesday
T0_MS = T0 // 1_000_000


def bar(symbol: str, minute: int, *values: str) -> Bar:
    o, h, low, c, v = (Decimal(x) for x in values)
    return Bar(symbol, Timeframe.M1, T0 + minute * NANOS_PER_MINUTE, o, h, low, c, v)


def read(path: Path, default_symbol: str | None = None) -> BarFileResult:
    return read_bar_file(path, checks=BarChecks(known_calendar), default_symbol=default_symbol)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BAD_CSV = """\
timestamp,symbol,open,high,low,close,volume
2024-01-03T09:00:00+09:00,KRX:005930,71000,71500,70900,71200,1000
2024-01-03T09:01:00+09:00,KRX:005930,abc,71500,70900,71200,1000
2024-01-03T09:02:00+09:00,KRX:005930,71000,71500,70900,71200
2024-01-03T09:03:00+09:00,KRX:005930,71000,70000,70900,71200,1000

2024-01-03T09:04:00+09:00,KRX:005930,71000,71500,70900,71200,-5
2024-01-03T09:05:00+09:00,SAMSUNG,71000,71500,70900,71200,1000
2024-01-03T09:06:00,KRX:005930,71000,71500,70900,71200,1000
1704240120000,krx:005930,71000,71500,70900,71200,"1,000"
1704240180000,krx:005930,71000,71500,70900,71200,1000
"2024-01-03T00:08:00Z",KRX:000660,"130000",130500,129000,130100,0
2024-01-03T09:09:30+09:00,KRX:005930,71000,71500,70900,71200,1000
2024-01-03T09:10:00+09:00,KRX:005930,,71500,70900,71200,1000
nonsense,KRX:005930,71000,71500,70900,71200,1000
"""


def test_csv_rejects_each_bad_row_with_its_line_and_keeps_the_good(tmp_path: Path) -> None:
    result = read(write(tmp_path / "bars.csv", BAD_CSV))
    assert result.rows_read == 13  # the blank line 6 is not a row
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "open 'abc' is not a number"),
        (4, "6 fields where the header has 7"),
        (5, "inconsistent OHLC (o=71000 h=70000 l=70900 c=71200)"),
        (7, "volume must not be negative"),
        (8, "instrument id 'SAMSUNG' is not of the form VENUE:CODE"),
        (
            9,
            "timestamp 2024-01-03T09:06:00 has no UTC offset; write it as e.g. "
            "2024-01-02T09:00:00+09:00 or in epoch milliseconds",
        ),
        (10, "volume '1,000' is not a number"),
        (13, "timestamp 2024-01-03T00:09:30+00:00 is not on a minute boundary"),
        (14, "missing value for open"),
        (15, "timestamp 'nonsense' is neither ISO-8601 nor epoch milliseconds"),
    ]
    assert result.errors[0].raw == (
        "2024-01-03T09:01:00+09:00,KRX:005930,abc,71500,70900,71200,1000"
    )
    assert result.bars == [
        bar("KRX:005930", 0, "71000", "71500", "70900", "71200", "1000"),
        bar("KRX:005930", 3, "71000", "71500", "70900", "71200", "1000"),
        bar("KRX:000660", 8, "130000", "130500", "129000", "130100", "0"),
    ]
    assert result.bars[1].ts == T0_MS * 1_000_000 + 3 * NANOS_PER_MINUTE


def test_quoted_newlines_report_the_line_the_row_starts_on(tmp_path: Path) -> None:
    text = (
        "timestamp,symbol,open,high,low,close,volume\n"
        '2024-01-03T00:00:00Z,"KRX:\n005930",1,1,1,1,1\n'
        "2024-01-03T00:01:00Z,KRX:005930,2,1,1,1,1\n"
    )
    result = read(write(tmp_path / "q.csv", text))
    assert [(e.line, e.raw) for e in result.errors] == [
        (2, '2024-01-03T00:00:00Z,"KRX:\n005930",1,1,1,1,1'),
        (4, "2024-01-03T00:01:00Z,KRX:005930,2,1,1,1,1"),
    ]
    assert result.bars == []


def test_default_symbol_fills_a_missing_column_or_cell(tmp_path: Path) -> None:
    no_column = write(
        tmp_path / "a.csv",
        "Timestamp,Open,High,Low,Close,Volume\n1704240000000,10,11,9,10.5,3\n",
    )
    result = read(no_column, default_symbol="upbit:KRW-BTC")
    assert result.bars == [bar("UPBIT:KRW-BTC", 0, "10", "11", "9", "10.5", "3")]
    blank_cell = write(
        tmp_path / "b.csv",
        "timestamp,symbol,open,high,low,close,volume\n"
        "1704240000000,,10,11,9,10,25\n"
        "1704240060000,KRX:005930,10,11,9,10,1\n",
    )
    result = read(blank_cell, default_symbol="UPBIT:KRW-BTC")
    assert [(b.instrument_id, b.volume) for b in result.bars] == [
        ("UPBIT:KRW-BTC", Decimal(25)),
        ("KRX:005930", Decimal(1)),
    ]
    with_no_default = read(blank_cell)
    assert with_no_default.errors == [
        RowError(2, "missing value for symbol", "1704240000000,,10,11,9,10,25")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("1704240000000,KRX:005930,1,1,1,1,1\n", "no header row"),
        ("timestamp,symbol,open,high,low,close,volume,vwap\n", r"unknown columns \['vwap'\]"),
        ("timestamp,open,high,low,close,volume\n", r"missing columns \['symbol'\].*default"),
        ("timestamp,symbol,open,high,low,close\n", r"missing columns \['volume'\]"),
        ("timestamp,symbol,open,open,high,low,close,volume\n", r"repeated columns \['open'\]"),
    ],
)
def test_bad_headers_refuse_the_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read(write(tmp_path / "h.csv", text))


def test_unreadable_files_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"timestamp,symbol,open,high,low,close,volume\n\xff\xfe,\n")
    with pytest.raises(DataError, match="not UTF-8"):
        read(latin)
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"PAR1 but not really")
    with pytest.raises(DataError, match="as Parquet"):
        read(fake)
    with pytest.raises(DataError, match="default symbol"):
        read(write(tmp_path / "ok.csv", BAD_CSV), default_symbol="nope")


def test_csv_round_trip(tmp_path: Path) -> None:
    bars = [
        bar("KRX:005930", 0, "71000", "71500", "70900", "71200", "1000"),
        bar("UPBIT:KRW-BTC", 1, "0.0001234", "0.0001240", "0.0001200", "0.0001239", "12"),
    ]
    path = tmp_path / "out.csv"
    assert write_bar_csv(path, bars) == 2
    assert path.read_text().splitlines()[:2] == [
        "timestamp,symbol,open,high,low,close,volume",
        "2024-01-03T00:00:00+00:00,KRX:005930,71000,71500,70900,71200,1000",
    ]
    result = read(path)
    assert result.bars == bars
    assert result.errors == []
    assert result.rows_read == 2


def test_parquet_round_trip(tmp_path: Path) -> None:
    bars = [bar("KRX:005930", m, "100", "110", "90", str(100 + m % 10), str(m)) for m in range(300)]
    path = tmp_path / "bars.parquet"
    assert write_bar_parquet(path, bars) == 300
    result = read(path)
    assert result.bars == bars
    assert result.errors == []
    assert result.rows_read == 300


def test_parquet_with_native_types_and_bad_rows(tmp_path: Path) -> None:
    table = pa.table(
        {
            "timestamp": pa.array([T0_MS, T0_MS + 60_000, T0_MS + 120_000, None], type=pa.int64()),
            "open": pa.array([10.5, 10.0, -1.0, 10.0]),
            "high": pa.array([11.0, 9.0, 11.0, 11.0]),
            "low": pa.array([10.0, 9.0, 9.0, 9.0]),
            "close": pa.array([10.75, 9.5, 10.0, 10.0]),
            "volume": pa.array([100, 1, 1, 1], type=pa.int64()),
        }
    )
    path = tmp_path / "native.pq"
    pq.write_table(table, path)
    result = read(path, default_symbol="KRX:005930")
    assert result.bars == [bar("KRX:005930", 0, "10.5", "11", "10", "10.75", "100")]
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "inconsistent OHLC (o=10.0 h=9.0 l=9.0 c=9.5)"),
        (4, "prices must be positive"),
        (5, "missing value for timestamp"),
    ]
    assert "open=-1.0" in result.errors[1].raw


def test_parquet_naive_timestamps_are_rejected(tmp_path: Path) -> None:
    table = pa.table(
        {
            "timestamp": pa.array([T0_MS], type=pa.timestamp("ms")),
            "symbol": ["KRX:005930"],
            "open": ["1"],
            "high": ["1"],
            "low": ["1"],
            "close": ["1"],
            "volume": ["1"],
        }
    )
    path = tmp_path / "naive.parquet"
    pq.write_table(table, path)
    result = read(path)
    assert result.bars == []
    assert [e.line for e in result.errors] == [2]
    assert "no UTC offset" in result.errors[0].message


def test_only_minute_bars_are_written(tmp_path: Path) -> None:
    five = Bar("KRX:005930", Timeframe.M5, T0, *(Decimal(1) for _ in range(5)))
    with pytest.raises(DataError, match="one-minute"):
        write_bar_csv(tmp_path / "x.csv", [five])
    with pytest.raises(DataError, match="one-minute"):
        write_bar_parquet(tmp_path / "x.parquet", [five])


PRICE_NAMES = ("open", "high", "low", "close")
# Each kind of row an import used to store though the platform cannot use it.
NOW = dt_to_ns(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
UNUSABLE = [
    ("2026-03-03T09:01:00+09:00,KRX:005930,70000,1e400,69900,70000,10", "high 1E+400 is above"),
    (
        "2026-03-03T09:02:00+09:00,KRX:005930,70000,70100,69900,inf,10",
        "close 'inf' is not a finite",
    ),
    ("2026-03-03T09:03:00+09:00,KRX:005930,0.0,70100,0.0,70000,10", "prices must be positive"),
    ("0001-01-01T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,10", "outside the years"),
    ("5138-11-16T09:00:00+00:00,KRX:005930,70000,70100,69900,70000,10", "outside the years"),
    ("2026-03-07T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,10", "2026-03-07 09:00 Sat"),
    ("2026-03-03T03:00:00+09:00,KRX:005930,70000,70100,69900,70000,10", "2026-03-03 03:00 Tue"),
    ('2026-03-03T09:04:00+09:00,"KRX:00""5930",70000,70100,69900,70000,10', "a KRX code is 6"),
    (
        "2030-03-05T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,10",
        "2030-03-05T00:00:00+00:00 is later",
    ),
    ("2026-12-02T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,10", "later than now"),
    ("2026-03-03T09:05:00+09:00,KRX:005930,70000,70100,69900,70000,10.5", "not a whole number"),
    ("2026-03-03T09:06:00+09:00,KRX:005930,70000,70100,69900,70000,1e30", "volume 1E+30 is above"),
]
GOOD_ROW = "2026-03-03T09:{:02d}:00+09:00,KRX:005930,70000,70100,69900,70000,10"


def test_rows_the_platform_cannot_use_are_refused_by_line_and_the_good_kept(
    tmp_path: Path,
) -> None:
    lines = [",".join(("timestamp", "symbol", *PRICE_NAMES, "volume")), GOOD_ROW.format(0)]
    lines += [row for row, _ in UNUSABLE] + [GOOD_ROW.format(10)]
    path = write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    result = read_bar_file(path, checks=BarChecks(known_calendar, not_after_ns=NOW))
    assert [error.line for error in result.errors] == list(range(3, 3 + len(UNUSABLE)))
    for error, (row, reason) in zip(result.errors, UNUSABLE, strict=True):
        assert reason in error.message, (error, reason)
        assert error.raw == row
    assert [ns_to_dt(b.ts).minute for b in result.bars] == [0, 10]
    assert result.rows_read == len(UNUSABLE) + 2


def test_parquet_rows_get_the_same_checks(tmp_path: Path) -> None:
    kst = timedelta(hours=9)
    stamps = [
        datetime(2026, 3, 3, 9, 0) - kst,  # good
        datetime(1, 1, 1, 9, 0),  # year 1
        datetime(2026, 3, 7, 9, 0) - kst,  # a Saturday
        datetime(2026, 3, 3, 3, 0) - kst,  # 03:00 KST
        datetime(2026, 3, 3, 9, 1) - kst,  # inf high
        datetime(2026, 3, 3, 9, 2) - kst,  # volume 10.5
        datetime(2026, 3, 3, 9, 3) - kst,  # volume 1e30
        datetime(2026, 3, 3, 9, 4) - kst,  # quote in the symbol
        datetime(2026, 3, 3, 9, 5) - kst,  # good
    ]
    n = len(stamps)
    table = pa.table(
        {
            "timestamp": pa.array(stamps, type=pa.timestamp("us", tz="UTC")),
            "symbol": ["KRX:005930"] * 7 + ['KRX:00"5930', "KRX:005930"],
            "open": [70000.0] * n,
            "high": [70100.0] * 4 + [float("inf")] + [70100.0] * 4,
            "low": [69900.0] * n,
            "close": [70000.0] * n,
            "volume": [10.0] * 5 + [10.5, 1e30, 10.0, 10.0],
        }
    )
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    result = read(path)
    assert [(b.instrument_id, ns_to_dt(b.ts).minute) for b in result.bars] == [
        ("KRX:005930", 0),
        ("KRX:005930", 5),
    ]
    reasons = [
        "outside the years",
        "2026-03-07 09:00 Sat",
        "03:00 Tue",
        "high inf is not a finite number",
        "volume 10.5 is not a whole number",
        "volume 1E+30 is above",
        "a KRX code is 6",
    ]
    assert [e.line for e in result.errors] == list(range(3, 10))
    for error, reason in zip(result.errors, reasons, strict=True):
        assert reason in error.message, (error, reason)


def test_a_jump_from_the_previous_close_is_kept_and_flagged(tmp_path: Path) -> None:
    text = (
        "timestamp,symbol,open,high,low,close,volume\n"
        + GOOD_ROW.format(0)
        + "\n2026-03-03T09:01:00+09:00,KRX:005930,1400,1410,1390,1400,500\n"
        + "2026-03-03T09:02:00+09:00,KRX:005930,1400,1420,1390,1410,500\n"
    )
    result = read(write(tmp_path / "split.csv", text))
    assert len(result.bars) == 3 and result.errors == []
    assert [flag.line for flag in result.flags] == [3]
    assert "from the previous close 70000" in result.flags[0].message


def test_files_are_read_in_chunks_with_their_progress(tmp_path: Path) -> None:
    bars = [bar("KRX:005930", m, "100", "110", "90", "100", "1") for m in range(10)]
    csv_path = tmp_path / "bars.csv"
    write_bar_csv(csv_path, bars)
    checks = BarChecks(known_calendar)
    chunks = list(iter_bar_file(csv_path, checks=checks, chunk_rows=4))
    assert [len(c.bars) for c in chunks] == [4, 4, 2]
    positions = [c.position for c in chunks]
    assert positions == sorted(positions) and positions[-1] == csv_path.stat().st_size
    assert {c.total for c in chunks} == {csv_path.stat().st_size}
    assert {c.unit for c in chunks} == {"bytes"}

    parquet_path = tmp_path / "bars.parquet"
    write_bar_parquet(parquet_path, bars)
    chunks = list(iter_bar_file(parquet_path, checks=BarChecks(known_calendar), chunk_rows=4))
    assert [(len(c.bars), c.position, c.total, c.unit) for c in chunks] == [
        (4, 4, 10, "rows"),
        (4, 8, 10, "rows"),
        (2, 10, 10, "rows"),
    ]
    # A wrong header is refused when the reading starts, before any chunk.
    with pytest.raises(DataError, match="missing columns"):
        iter_bar_file(write(tmp_path / "h.csv", "timestamp,open\n"), checks=checks)


GOOG_STYLE = """\
,Open,High,Low,Close,Volume
2004-08-19,100,104.06,95.96,100.34,22351900
2004-08-20,101.01,109.08,100.5,108.31,11428600
2004-08-23T00:00:00+00:00,110.75,113.48,109.05,109.4,9137200
"""


def test_a_daily_file_has_plain_dates_and_an_unnamed_or_date_column(tmp_path: Path) -> None:
    checks = BarChecks(None)
    day = Timeframe.D1.nanos
    first = dt_to_ns(datetime(2004, 8, 19, tzinfo=UTC))
    for header in ("", "Date"):
        path = write(tmp_path / "GOOG.csv", GOOG_STYLE.replace(",Open", f"{header},Open", 1))
        result = read_bar_file(path, checks=checks, default_symbol="RESEARCH:GOOG", daily=True)
        assert result.errors == []
        # Plain dates are daily bars from 00:00 UTC; a full timestamp stays a minute bar.
        assert [(b.timeframe, b.ts) for b in result.bars] == [
            (Timeframe.D1, first),
            (Timeframe.D1, first + day),
            (Timeframe.M1, first + 4 * day),
        ]
        assert result.bars[1].close == Decimal("108.31")
    # Without daily=True the same file is refused for its header, as before.
    with pytest.raises(DataError, match="unknown columns"):
        read_bar_file(path, checks=checks, default_symbol="RESEARCH:GOOG")
