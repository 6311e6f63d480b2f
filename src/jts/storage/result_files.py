"""A backtest's trade list and equity curve as Parquet files, amounts as exact decimal text.

Decimal strings (as ``write_bar_parquet`` writes prices) keep every won and every
fraction of a crypto lot exact; times are UTC timestamps with the nanoseconds kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jts.domain.fills import Fill

FILL_COLUMNS = (
    "ts",
    "instrument_id",
    "side",
    "quantity",
    "price",
    "commission",
    "tax",
    "liquidity",
    "order_id",
    "fill_id",
)


def _text(values: Sequence[Decimal]) -> pa.Array:
    return pa.array([format(value, "f") for value in values], type=pa.string())


def _times(values: Sequence[int]) -> pa.Array:
    return pa.array(list(values), type=pa.timestamp("ns", tz="UTC"))


def write_fills_parquet(path: Path, fills: Sequence[Fill]) -> Path:
    table = pa.table(
        {
            "ts": _times([f.ts for f in fills]),
            "instrument_id": pa.array([f.instrument_id for f in fills], type=pa.string()),
            "side": pa.array([f.side.value for f in fills], type=pa.string()),
            "quantity": _text([f.quantity for f in fills]),
            "price": _text([f.price for f in fills]),
            "commission": _text([f.commission for f in fills]),
            "tax": _text([f.tax for f in fills]),
            "liquidity": pa.array([f.liquidity.value for f in fills], type=pa.string()),
            "order_id": pa.array([f.order_id for f in fills], type=pa.string()),
            "fill_id": pa.array([f.fill_id for f in fills], type=pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_equity_parquet(path: Path, points: Sequence[tuple[int, Decimal]]) -> Path:
    table = pa.table(
        {
            "ts": _times([ts for ts, _ in points]),
            "equity": _text([equity for _, equity in points]),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
