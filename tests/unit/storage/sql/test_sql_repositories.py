"""What only the SQL store has: its roadmap columns, the audit's reason column, unmigrated tables.

The repository ports' own rules are tested on every store in ``../test_repositories.py``.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from jts.domain.errors import StorageError
from jts.storage.sql.repositories import SqlStore
from repository_samples import T0
from repository_samples import S
from repository_samples import make_order


async def test_roadmap_columns_are_filled(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    async with sql_store.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT id, strategy_id, symbol, side, status, broker, created_at FROM orders"
                )
            )
        ).one()
    assert uuid.UUID(str(row.id)) == uuid.UUID(order.order_id)
    assert row.strategy_id is not None
    assert (row.symbol, row.side, row.status, row.broker) == ("KRX:005930", "BUY", "NEW", "paper")
    assert row.created_at is not None


async def test_transition_reason_is_audited(sql_store: SqlStore) -> None:
    order = make_order()
    await sql_store.orders.add(order)
    previous = order.transition(S.REJECTED, T0 + 5, "insufficient funds")
    assert await sql_store.orders.save_transition(order, previous, reason="insufficient funds")
    loaded = await sql_store.orders.get(order.order_id)
    assert loaded is not None
    assert loaded.reason == "insufficient funds"
    async with sql_store.engine.connect() as connection:
        reasons = (
            await connection.execute(sa.text("SELECT reason FROM order_audit ORDER BY id"))
        ).scalars()
        assert list(reasons) == [None, "insufficient funds"]


async def test_unmigrated_database_errors_are_storage_errors(sql_url: str) -> None:
    store = SqlStore.open(sql_url)  # never migrated: the tables do not exist
    try:
        with pytest.raises(StorageError, match="listing orders failed"):
            await store.orders.list()
    finally:
        await store.close()
