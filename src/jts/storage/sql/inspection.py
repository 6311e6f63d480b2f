"""Read-only views of the relational store that only a consistency check needs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from jts.storage.sql.repositories import SqlStore
from jts.storage.sql.tables import FillRow
from jts.storage.sql.tables import OrderRow


@dataclass(frozen=True, slots=True)
class FillTrace:
    """A fill as it was written: ``seq`` is its insertion order."""

    seq: int
    fill_id: str
    ts: int
    instrument_id: str
    side: str
    quantity: Decimal


async def fills_in_written_order(store: SqlStore) -> list[FillTrace]:
    """Every fill in the order it was stored (not by market time)."""
    query = sa.select(
        FillRow.id, FillRow.fill_id, FillRow.ts, FillRow.symbol, FillRow.side, FillRow.quantity
    ).order_by(FillRow.id)
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [FillTrace(row[0], row[1], row[2], row[3], row[4], Decimal(row[5])) for row in rows]


async def latest_recorded_ts(store: SqlStore) -> int:
    """The latest market time any order or fill carries (0 for an empty store)."""
    query = sa.select(
        sa.select(sa.func.max(OrderRow.created_ts)).scalar_subquery(),
        sa.select(sa.func.max(OrderRow.updated_ts)).scalar_subquery(),
        sa.select(sa.func.max(FillRow.ts)).scalar_subquery(),
    )
    async with store.engine.connect() as connection:
        row = (await connection.execute(query)).one()
    return max(int(value or 0) for value in row)
