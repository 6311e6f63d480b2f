"""A backtest's signals, orders, trade list and equity curve as Parquet, amounts exact.

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
from jts.domain.orders import Order
from jts.domain.signals import Signal

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


def _optional_text(values: Sequence[Decimal | None]) -> pa.Array:
    return pa.array(
        [None if value is None else format(value, "f") for value in values], type=pa.string()
    )


def write_signals_parquet(path: Path, signals: Sequence[Signal]) -> Path:
    """Every signal a strategy emitted, in the order it was published."""
    table = pa.table(
        {
            "ts": _times([s.ts for s in signals]),
            "strategy_id": pa.array([s.strategy_id for s in signals], type=pa.string()),
            "instrument_id": pa.array([s.instrument_id for s in signals], type=pa.string()),
            "side": pa.array([s.side.value for s in signals], type=pa.string()),
            "price": _text([s.price for s in signals]),
            "signal_id": pa.array([s.signal_id for s in signals], type=pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_orders_parquet(path: Path, orders: Sequence[Order]) -> Path:
    """Every order at its final state: what was asked, what became of it and why."""
    table = pa.table(
        {
            "created_ts": _times([o.created_ts for o in orders]),
            "client_order_id": pa.array([o.client_order_id for o in orders], type=pa.string()),
            "instrument_id": pa.array([o.instrument_id for o in orders], type=pa.string()),
            "side": pa.array([o.side.value for o in orders], type=pa.string()),
            "order_type": pa.array([o.order_type.value for o in orders], type=pa.string()),
            "quantity": _text([o.quantity for o in orders]),
            "price": _optional_text([o.price for o in orders]),
            "quote_quantity": _optional_text([o.quote_quantity for o in orders]),
            "status": pa.array([o.status.value for o in orders], type=pa.string()),
            "filled_quantity": _text([o.filled_quantity for o in orders]),
            "reason": pa.array([o.reason for o in orders], type=pa.string()),
            "strategy_id": pa.array([o.strategy_id for o in orders], type=pa.string()),
            "signal_id": pa.array([o.signal_id for o in orders], type=pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
