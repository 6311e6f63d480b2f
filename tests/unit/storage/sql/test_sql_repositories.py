"""What only the SQL store has: its roadmap columns, the audit's reason column, unmigrated tables.

The repository ports' own rules are tested on every store in ``../test_repositories.py``.
"""

from __future__ import annotations

import re
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


async def test_the_batch_path_stores_the_same_column_forms_as_the_orm(sql_store: SqlStore) -> None:
    # One SUBMITTED order through the ORM (add), one through the one-call batch path
    # (add_submitted): every stored column has the same form (type, digits aside).
    by_orm = make_order(instrument_id="KRX:000660")
    by_orm.transition(S.SUBMITTED, T0 + 1)
    await sql_store.orders.add(by_orm)
    by_batch = make_order(instrument_id="KRX:000660")
    by_batch.transition(S.SUBMITTED, T0 + 1)
    await sql_store.orders.add_submitted([(by_batch, [])])

    def form(value: object) -> tuple[str, str]:
        return type(value).__name__, re.sub(r"[0-9a-fA-F]", "0", str(value))

    async with sql_store.engine.connect() as connection:
        rows = {
            row.client_order_id: {k: form(v) for k, v in row._asdict().items()}
            for row in await connection.execute(sa.text("SELECT * FROM orders"))
        }
        audit = {
            str(row.order_id): [
                form(v) for k, v in row._asdict().items() if k not in ("id", "from_status")
            ]
            for row in await connection.execute(sa.text("SELECT * FROM order_audit"))
        }
    assert rows[by_orm.client_order_id] == rows[by_batch.client_order_id]
    orm_audit = [v for k, v in audit.items() if uuid.UUID(k) == uuid.UUID(by_orm.order_id)]
    batch_audit = [v for k, v in audit.items() if uuid.UUID(k) == uuid.UUID(by_batch.order_id)]
    assert orm_audit == batch_audit[-1:]
