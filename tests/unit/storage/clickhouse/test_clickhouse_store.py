"""ClickHouseBarStore on the embedded chDB engine, one data directory per test.

chDB runs one engine per process on one directory: a test may open its own
directory only because every store of the previous test was closed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client

from jts.domain.errors import ConfigurationError
from jts.domain.errors import DataError
from jts.domain.errors import StorageError
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import dt_to_ns
from jts.storage.clickhouse.schema import MARKET_DATA_COLUMNS
from jts.storage.clickhouse.schema import MARKET_DATA_TYPES
from jts.storage.clickhouse.schema import create_schema
from jts.storage.clickhouse.store import CHDB_LOCK
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.clickhouse.store import chdb_path

SAMSUNG = "KRX:005930"
HYNIX = "KRX:000660"
T0 = dt_to_ns(datetime(2024, 1, 2, 0, 0, tzinfo=UTC))  # 09:00 KST


def minute_bar(
    symbol: str,
    minute: int,
    open_: str = "100",
    high: str = "110",
    low: str = "90",
    close: str = "105",
    volume: int = 10,
) -> Bar:
    return Bar(
        symbol,
        Timeframe.M1,
        T0 + minute * NANOS_PER_MINUTE,
        Decimal(open_),
        Decimal(high),
        Decimal(low),
        Decimal(close),
        Decimal(volume),
    )


def decimals(*values: int) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ClickHouseBarStore]:
    opened = await ClickHouseBarStore.open(None, tmp_path, batch_size=1000)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def raw_client(store: ClickHouseBarStore, tmp_path: Path) -> Iterator[Client]:
    """A second session on the store's directory (chDB allows several on one path)."""
    client = clickhouse_connect.get_client(interface="chdb", path=str(chdb_path(tmp_path)))
    client.database = "jts"
    try:
        yield client
    finally:
        client.close()


def raw_query(client: Client, sql: str) -> list[tuple[Any, ...]]:
    with CHDB_LOCK:
        return [tuple(row) for row in client.query(sql).result_rows]


async def test_table_has_the_roadmap_types_engine_and_key(
    store: ClickHouseBarStore, raw_client: Client, tmp_path: Path
) -> None:
    columns = raw_query(
        raw_client,
        "SELECT name, type FROM system.columns "
        "WHERE database = 'jts' AND table = 'market_data' ORDER BY position",
    )
    assert columns == list(zip(MARKET_DATA_COLUMNS, MARKET_DATA_TYPES, strict=True))
    assert columns[0] == ("timestamp", "DateTime64(3)")
    assert columns[1] == ("symbol", "LowCardinality(String)")
    assert columns[-1] == ("volume", "UInt64")
    tables = raw_query(
        raw_client,
        "SELECT engine, sorting_key FROM system.tables "
        "WHERE database = 'jts' AND name = 'market_data'",
    )
    assert tables == [("MergeTree", "symbol, timestamp")]
    assert (tmp_path / "clickhouse").is_dir()


async def test_large_write_is_inserted_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = clickhouse_connect.get_client(interface="chdb", path=str(chdb_path(tmp_path)))
    create_schema(client, "jts")
    batches: list[int] = []
    real_insert = client.insert

    def counting_insert(table: str, data: list[Any], **kwargs: Any) -> Any:
        batches.append(len(data))
        return real_insert(table, data, **kwargs)

    monkeypatch.setattr(client, "insert", counting_insert)  # a spy on the library client
    store = ClickHouseBarStore(client, batch_size=1000, lock=CHDB_LOCK)
    try:
        bars = [minute_bar(SAMSUNG, i, volume=i) for i in range(25_000)]
        assert await store.write_bars(bars) == 25_000
        assert batches == [1000] * 25
        assert await store.count() == 25_000
        whole = await store.read_bars(SAMSUNG, T0, T0 + 25_000 * NANOS_PER_MINUTE, Timeframe.D1)
        assert sum(bar.volume for bar in whole) == sum(range(25_000))
    finally:
        await store.close()


async def test_range_is_start_inclusive_end_exclusive(store: ClickHouseBarStore) -> None:
    await store.write_bars([minute_bar(SAMSUNG, i) for i in range(10)])
    await store.write_bars([minute_bar(HYNIX, i) for i in range(10)])
    got = await store.read_bars(SAMSUNG, T0 + 3 * NANOS_PER_MINUTE, T0 + 6 * NANOS_PER_MINUTE)
    assert [bar.ts for bar in got] == [T0 + m * NANOS_PER_MINUTE for m in (3, 4, 5)]
    assert {bar.instrument_id for bar in got} == {SAMSUNG}
    assert all(bar.timeframe is Timeframe.M1 for bar in got)
    assert await store.read_bars(SAMSUNG, T0 + 5 * NANOS_PER_MINUTE, T0) == []
    assert await store.read_bars("KRX:999999", T0, T0 + 10 * NANOS_PER_MINUTE) == []


async def test_prices_come_back_as_the_decimals_written(store: ClickHouseBarStore) -> None:
    bar = minute_bar(SAMSUNG, 0, "0.1", "71200.5", "0.05", "0.3", volume=123_456_789)
    await store.write_bars([bar])
    (got,) = await store.read_bars(SAMSUNG, T0, T0 + NANOS_PER_MINUTE)
    assert (got.open, got.high, got.low, got.close) == (
        Decimal("0.1"),
        Decimal("71200.5"),
        Decimal("0.05"),
        Decimal("0.3"),
    )
    assert got.volume == Decimal(123_456_789)
    assert got == bar


async def test_five_minute_bars_are_aggregated_from_minutes(store: ClickHouseBarStore) -> None:
    # Minutes 0..9: open = 100 + m, high = 120 + m, low = 90 - m, close = 101 + m, vol = m + 1.
    bars = [
        minute_bar(SAMSUNG, m, str(100 + m), str(120 + m), str(90 - m), str(101 + m), m + 1)
        for m in range(10)
    ]
    await store.write_bars(list(reversed(bars)))
    got = await store.read_bars(SAMSUNG, T0, T0 + 10 * NANOS_PER_MINUTE, Timeframe.M5)
    assert [(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in got] == [
        (T0, *decimals(100, 124, 86, 105, 15)),
        (T0 + 5 * NANOS_PER_MINUTE, *decimals(105, 129, 81, 110, 40)),
    ]
    assert all(bar.timeframe is Timeframe.M5 for bar in got)


async def test_aggregated_range_keeps_only_whole_buckets_starting_inside(
    store: ClickHouseBarStore,
) -> None:
    await store.write_bars([minute_bar(SAMSUNG, m, volume=1) for m in range(15)])
    got = await store.read_bars(
        SAMSUNG, T0 + 2 * NANOS_PER_MINUTE, T0 + 7 * NANOS_PER_MINUTE, Timeframe.M5
    )
    # The 0-5 bucket starts before the range; the 5-10 bucket starts inside it and is whole.
    assert [(bar.ts, bar.volume) for bar in got] == [(T0 + 5 * NANOS_PER_MINUTE, Decimal(5))]


async def test_hour_and_day_buckets_are_utc_aligned(store: ClickHouseBarStore) -> None:
    await store.write_bars([minute_bar(SAMSUNG, m, volume=1) for m in range(-30, 90)])
    hours = await store.read_bars(SAMSUNG, T0 - NANOS_PER_MINUTE * 60, T0 + 2 * 3600 * 10**9)
    assert len(hours) == 120
    hourly = await store.read_bars(SAMSUNG, T0 - 3600 * 10**9, T0 + 2 * 3600 * 10**9, Timeframe.H1)
    assert [(bar.ts - T0, bar.volume) for bar in hourly] == [
        (-3600 * 10**9, Decimal(30)),
        (0, Decimal(60)),
        (3600 * 10**9, Decimal(30)),
    ]
    daily = await store.read_bars(SAMSUNG, T0 - 86_400 * 10**9, T0 + 86_400 * 10**9, Timeframe.D1)
    assert [(bar.ts - T0, bar.volume) for bar in daily] == [
        (-86_400 * 10**9, Decimal(30)),
        (0, Decimal(90)),
    ]


async def test_latest_bar_of_each_symbol(store: ClickHouseBarStore) -> None:
    await store.write_bars([minute_bar(SAMSUNG, m, close=str(101 + m)) for m in range(5)])
    await store.write_bars([minute_bar(HYNIX, m, close=str(101 + m)) for m in range(8)])
    latest = await store.latest_bars()
    assert set(latest) == {SAMSUNG, HYNIX}
    assert latest[SAMSUNG] == minute_bar(SAMSUNG, 4, close="105")
    assert latest[HYNIX] == minute_bar(HYNIX, 7, close="108")
    only = await store.latest_bars([HYNIX, "KRX:999999"])
    assert list(only) == [HYNIX]
    assert await store.latest_bars([]) == {}
    assert await store.instruments() == [HYNIX, SAMSUNG]


async def test_duplicates_in_a_batch_and_across_writes_are_skipped(
    store: ClickHouseBarStore,
) -> None:
    first = [minute_bar(SAMSUNG, m, volume=m + 1) for m in range(5)]
    assert await store.write_bars(first + first[:2]) == 5
    assert await store.write_bars(first) == 0
    overlapping = [minute_bar(SAMSUNG, m, volume=1000) for m in range(3, 8)]
    assert await store.write_bars(overlapping) == 3
    assert await store.write_bars([minute_bar(HYNIX, 3)]) == 1
    assert await store.count() == 9
    assert await store.count(SAMSUNG) == 8
    (day,) = await store.read_bars(SAMSUNG, T0, T0 + 86_400 * 10**9, Timeframe.D1)
    # Minutes 0-4 keep their first volumes (1..5); 5-7 are new at 1000 each.
    assert day.volume == 15 + 3000
    assert await store.write_bars([]) == 0


async def test_reads_count_raced_duplicates_once(
    store: ClickHouseBarStore, raw_client: Client
) -> None:
    await store.write_bars([minute_bar(SAMSUNG, m, volume=7) for m in range(3)])
    # A second writer racing past the check inserts the same minutes again.
    rows = [(T0 // 10**6 + m * 60_000, SAMSUNG, 100.0, 110.0, 90.0, 105.0, 7) for m in range(3)]
    with CHDB_LOCK:
        raw_client.insert("market_data", rows, column_names=list(MARKET_DATA_COLUMNS))
    assert raw_query(raw_client, "SELECT count() FROM market_data") == [(6,)]
    assert await store.count() == 3
    minutes = await store.read_bars(SAMSUNG, T0, T0 + 10 * NANOS_PER_MINUTE)
    assert [bar.volume for bar in minutes] == [7, 7, 7]
    (five,) = await store.read_bars(SAMSUNG, T0, T0 + 5 * NANOS_PER_MINUTE, Timeframe.M5)
    assert five.volume == 21
    assert (await store.latest_bars())[SAMSUNG] == minute_bar(SAMSUNG, 2, volume=7)


async def test_bars_the_table_cannot_hold_are_refused_before_any_insert(
    store: ClickHouseBarStore,
) -> None:
    good = minute_bar(SAMSUNG, 0)
    fractional = minute_bar(SAMSUNG, 1, volume=1)
    fractional = Bar(
        SAMSUNG,
        Timeframe.M1,
        fractional.ts,
        good.open,
        good.high,
        good.low,
        good.close,
        Decimal("0.5"),
    )
    with pytest.raises(DataError, match=r"KRX:005930@2024-01-02T00:01:00\+00:00.*volume 0.5"):
        await store.write_bars([good, fractional])
    five = Bar(SAMSUNG, Timeframe.M5, T0, good.open, good.high, good.low, good.close, Decimal(1))
    with pytest.raises(DataError, match="one-minute bars, not 5m"):
        await store.write_bars([five])
    sub_ms = Bar(
        SAMSUNG, Timeframe.M1, T0 + 1, good.open, good.high, good.low, good.close, Decimal(1)
    )
    with pytest.raises(DataError, match="milliseconds"):
        await store.write_bars([sub_ms])
    assert await store.count() == 0


async def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    first = await ClickHouseBarStore.open(None, tmp_path)
    try:
        await first.write_bars([minute_bar(SAMSUNG, m) for m in range(4)])
    finally:
        await first.close()
    again = await ClickHouseBarStore.open(None, tmp_path)
    try:
        assert await again.count() == 4
        assert await again.write_bars([minute_bar(SAMSUNG, 3), minute_bar(SAMSUNG, 4)]) == 1
        assert await again.count() == 5
    finally:
        await again.close()


async def test_databases_on_one_path_are_separate(tmp_path: Path) -> None:
    a = await ClickHouseBarStore.open(f"chdb://{chdb_path(tmp_path)}", tmp_path, database="a")
    b = await ClickHouseBarStore.open(None, tmp_path, database="b")
    try:
        await a.write_bars([minute_bar(SAMSUNG, 0)])
        assert await a.count() == 1
        assert await b.count() == 0
    finally:
        await a.close()
        await b.close()


async def test_a_second_data_directory_waits_for_the_first_to_close(tmp_path: Path) -> None:
    first = await ClickHouseBarStore.open(None, tmp_path / "one")
    try:
        with pytest.raises(StorageError, match="one engine per process"):
            await ClickHouseBarStore.open(None, tmp_path / "two")
    finally:
        await first.close()
    second = await ClickHouseBarStore.open(None, tmp_path / "two")
    await second.close()
    with pytest.raises(StorageError, match="closed"):
        await second.count()


async def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        await ClickHouseBarStore.open("tcp://localhost:9000", tmp_path)
    with pytest.raises(ConfigurationError, match="identifier"):
        await ClickHouseBarStore.open(None, tmp_path, database="x; DROP")


async def test_utc_round_trip_whatever_the_session_time_zone(tmp_path: Path) -> None:
    # A server whose session zone is +12:45 (+13:45 in summer) must change nothing.
    client = clickhouse_connect.get_client(
        interface="chdb",
        path=str(chdb_path(tmp_path)),
        settings={"session_timezone": "Pacific/Chatham"},
    )
    create_schema(client, "jts")
    store = ClickHouseBarStore(client, lock=CHDB_LOCK)
    try:
        assert client.query("SELECT timezone()").result_rows == [("Pacific/Chatham",)]
        ts = dt_to_ns(datetime(2024, 7, 1, 23, 59, tzinfo=UTC))
        bar = Bar(SAMSUNG, Timeframe.M1, ts, *(Decimal(v) for v in (10, 12, 9, 11, 5)))
        await store.write_bars([bar])
        assert await store.read_bars(SAMSUNG, ts, ts + NANOS_PER_MINUTE) == [bar]
        (day,) = await store.read_bars(SAMSUNG, ts - 86_400 * 10**9, ts + 1, Timeframe.D1)
        assert day.ts == dt_to_ns(datetime(2024, 7, 1, tzinfo=UTC))
        assert (await store.latest_bars())[SAMSUNG].ts == ts
    finally:
        await store.close()


_TZ_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from decimal import Decimal
    from pathlib import Path
    from jts.domain.market import Bar, Timeframe
    from jts.storage.clickhouse.store import ClickHouseBarStore

    async def main() -> None:
        ts = int(sys.argv[2])
        store = await ClickHouseBarStore.open(None, Path(sys.argv[1]))
        try:
            bar = Bar("KRX:005930", Timeframe.M1, ts, *(Decimal(v) for v in (10, 12, 9, 11, 5)))
            await store.write_bars([bar])
            minutes = await store.read_bars("KRX:005930", ts, ts + 60 * 10**9)
            days = await store.read_bars("KRX:005930", 0, ts + 1, Timeframe.D1)
            latest = await store.latest_bars()
            print(json.dumps({
                "same": minutes == [bar],
                "day": [d.ts for d in days],
                "latest": latest["KRX:005930"].ts,
            }))
        finally:
            await store.close()

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/St_Johns"])
def test_utc_round_trip_whatever_the_process_time_zone(tmp_path: Path, zone: str) -> None:
    ts = dt_to_ns(datetime(2024, 3, 4, 23, 30, tzinfo=UTC))
    env = {**os.environ, "TZ": zone}
    done = subprocess.run(
        [sys.executable, "-c", _TZ_SCRIPT, str(tmp_path), str(ts)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "same": True,
        "day": [dt_to_ns(datetime(2024, 3, 4, tzinfo=UTC))],
        "latest": ts,
    }


async def test_scan_returns_rows_as_stored_in_pages(
    store: ClickHouseBarStore, raw_client: Client
) -> None:
    await store.write_bars([minute_bar(SAMSUNG, m) for m in range(5)] + [minute_bar(HYNIX, 0)])
    ms = (T0 + 5 * NANOS_PER_MINUTE) // 1_000_000
    with CHDB_LOCK:  # a bar no Bar could hold, as an old import stored it
        raw_client.command(
            f"INSERT INTO market_data VALUES (fromUnixTimestamp64Milli({ms}), "
            f"'{SAMSUNG}', 0, inf, 0, 1, 3)"
        )
    pages = [page async for page in store.scan_bars(SAMSUNG, page=2)]
    assert [len(page) for page in pages] == [2, 2, 2]
    rows = [row for page in pages for row in page]
    assert [row.ts for row in rows] == [T0 + m * NANOS_PER_MINUTE for m in range(6)]
    assert (rows[-1].open, rows[-1].high, rows[-1].volume) == (
        Decimal(0),
        Decimal("Infinity"),
        Decimal(3),
    )
    window = [
        row.ts
        async for page in store.scan_bars(SAMSUNG, T0 + NANOS_PER_MINUTE, T0 + 3 * NANOS_PER_MINUTE)
        for row in page
    ]
    assert window == [T0 + NANOS_PER_MINUTE, T0 + 2 * NANOS_PER_MINUTE]


async def test_delete_by_range_and_by_minutes_counts_what_it_removed(
    store: ClickHouseBarStore,
) -> None:
    year_one = dt_to_ns(datetime(1, 1, 1, tzinfo=UTC))
    await store.write_bars([minute_bar(SAMSUNG, m) for m in range(10)] + [minute_bar(HYNIX, 0)])
    await store.write_bars([Bar(SAMSUNG, Timeframe.M1, year_one, *decimals(1, 1, 1, 1, 1))])
    assert (
        await store.delete_bars(SAMSUNG, T0 + 2 * NANOS_PER_MINUTE, T0 + 4 * NANOS_PER_MINUTE) == 2
    )
    assert (
        await store.delete_bars(SAMSUNG, T0 + 2 * NANOS_PER_MINUTE, T0 + 4 * NANOS_PER_MINUTE) == 0
    )
    assert await store.delete_minutes(SAMSUNG, [year_one, T0, T0 + 9 * NANOS_PER_MINUTE]) == 3
    assert await store.count(SAMSUNG) == 6
    assert await store.delete_bars(SAMSUNG) == 6
    assert await store.count() == 1, "the other instrument is untouched"
