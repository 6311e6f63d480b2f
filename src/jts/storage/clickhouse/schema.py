"""The ``market_data`` table and the SQL that reads it, shared by chDB and a server.

Timestamps are ``DateTime64(3)`` without a zone, exactly as the roadmap declares
them, so the zone a session would display them in is whatever the engine's host
runs in. Nothing here depends on it: values go in and come out as integer epoch
milliseconds (``fromUnixTimestamp64Milli`` / ``toUnixTimestamp64Milli``) and
higher timeframes are bucketed by integer division of those milliseconds, which
is UTC by construction.

Every read collapses rows sharing ``(symbol, timestamp)`` to one, so a duplicate
that slipped past the writer's check (two writers racing) is never counted twice.
"""

from __future__ import annotations

import re

from clickhouse_connect.driver.client import Client

from jts.domain.errors import ConfigurationError

MARKET_DATA = "market_data"

MARKET_DATA_DDL = """\
CREATE TABLE IF NOT EXISTS market_data (
    timestamp DateTime64(3), symbol LowCardinality(String), open Float64, high Float64,
    low Float64, close Float64, volume UInt64
) ENGINE = MergeTree() ORDER BY (symbol, timestamp)"""

MARKET_DATA_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
MARKET_DATA_TYPES = (
    "DateTime64(3)",
    "LowCardinality(String)",
    "Float64",
    "Float64",
    "Float64",
    "Float64",
    "UInt64",
)

_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def create_schema(client: Client, database: str) -> None:
    """Create ``database`` and ``market_data`` in it, and point ``client`` at it."""
    if not _DATABASE_NAME.fullmatch(database):
        raise ConfigurationError(f"ClickHouse database name {database!r} is not an identifier")
    client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    client.database = database
    client.command(MARKET_DATA_DDL)


# One row per (symbol, timestamp); max() of the whole tuple picks a complete row
# deterministically when duplicates exist (LATEST_BARS picks the same one).
_DISTINCT_MINUTES = """\
SELECT symbol, ts_ms, bar.1 AS open, bar.2 AS high, bar.3 AS low, bar.4 AS close,
       bar.5 AS volume
FROM (
    SELECT symbol, toUnixTimestamp64Milli(timestamp) AS ts_ms,
           max((open, high, low, close, volume)) AS bar
    FROM market_data
    WHERE symbol = {symbol:String}
      AND timestamp >= fromUnixTimestamp64Milli({start_ms:Int64})
      AND timestamp < fromUnixTimestamp64Milli({end_ms:Int64})
    GROUP BY symbol, ts_ms
)"""

READ_MINUTE_BARS = f"""\
SELECT ts_ms, open, high, low, close, volume
FROM ({_DISTINCT_MINUTES})
ORDER BY ts_ms"""

# Buckets are aligned to the UNIX epoch, i.e. to UTC midnight for every timeframe up
# to a day; open/close are the first/last minute's, the rest are max/min/sum.
READ_AGGREGATED_BARS = f"""\
SELECT intDiv(ts_ms, {{bucket_ms:Int64}}) * {{bucket_ms:Int64}} AS bucket,
       argMin(open, ts_ms), max(high), min(low), argMax(close, ts_ms), sum(volume)
FROM ({_DISTINCT_MINUTES})
GROUP BY bucket
ORDER BY bucket"""

LATEST_BARS = """\
SELECT symbol, toUnixTimestamp64Milli(max(timestamp)),
       argMax((open, high, low, close, volume), (timestamp, open, high, low, close, volume))
FROM market_data
{where}
GROUP BY symbol
ORDER BY symbol"""

EXISTING_TIMESTAMPS = """\
SELECT DISTINCT symbol, toUnixTimestamp64Milli(timestamp)
FROM market_data
WHERE symbol IN {symbols:Array(String)}
  AND timestamp >= fromUnixTimestamp64Milli({first_ms:Int64})
  AND timestamp <= fromUnixTimestamp64Milli({last_ms:Int64})"""

INSTRUMENTS = "SELECT DISTINCT symbol FROM market_data ORDER BY symbol"

COUNT_DISTINCT = "SELECT uniqExact(symbol, timestamp) FROM market_data {where}"

# ``jts data check``/``delete``: the selection of bars by symbol and an optional range of
# epoch milliseconds; compared as integers, so a bar stored with a time no DateTime can
# show (year 1, year 5138) is still found.
_SELECTION = """\
symbol = {symbol:String}
  AND toUnixTimestamp64Milli(timestamp) >= {start_ms:Int64}
  AND toUnixTimestamp64Milli(timestamp) < {end_ms:Int64}"""

SCAN_BARS = f"""\
SELECT ts_ms, bar.1, bar.2, bar.3, bar.4, bar.5
FROM (
    SELECT toUnixTimestamp64Milli(timestamp) AS ts_ms,
           max((open, high, low, close, volume)) AS bar
    FROM market_data
    WHERE {_SELECTION}
    GROUP BY ts_ms
)
ORDER BY ts_ms
LIMIT {{limit:UInt32}}"""

COUNT_SELECTION = f"SELECT uniqExact(timestamp) FROM market_data WHERE {_SELECTION}"

DELETE_SELECTION = f"DELETE FROM market_data WHERE {_SELECTION}"

DELETE_STAMPS = """\
DELETE FROM market_data
WHERE symbol = {symbol:String} AND toUnixTimestamp64Milli(timestamp) IN {stamps:Array(Int64)}"""

COUNT_STAMPS = """\
SELECT uniqExact(timestamp) FROM market_data
WHERE symbol = {symbol:String} AND toUnixTimestamp64Milli(timestamp) IN {stamps:Array(Int64)}"""
