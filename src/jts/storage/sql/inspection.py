"""Read-only views of the relational store that only a consistency check needs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from jts.storage.sql.repositories import SqlStore
from jts.storage.sql.tables import FillRow


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
