"""Which database failures are outages (worth waiting for) and which are refusals."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import StorageError
from jts.domain.errors import StorageUnavailable
from jts.domain.orders import Order
from jts.storage.sql.engine import sqlite_path
from jts.storage.sql.repositories import SqlStore


def an_order() -> Order:
    return Order("KRX:005930", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(70_000), 1, "paper")


@pytest.mark.parametrize("sql_url", ["sqlite"], indirect=True)
async def test_a_locked_sqlite_file_is_an_outage(sql_store: SqlStore, sql_url: str) -> None:
    path = sqlite_path(sql_url)
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA busy_timeout=0")
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageUnavailable, match="locked"):
            await sql_store.orders.add(an_order())
        other.execute("ROLLBACK")
    finally:
        other.close()
    await sql_store.orders.add(an_order())  # the same call succeeds once the lock is gone


async def test_a_missing_table_is_a_refusal_not_an_outage(sql_store: SqlStore) -> None:
    async with sql_store.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE order_audit")
    with pytest.raises(StorageError) as raised:
        await sql_store.orders.add(an_order())
    assert not isinstance(raised.value, StorageUnavailable)


async def test_an_unreachable_postgres_is_an_outage() -> None:
    store = SqlStore.open("postgresql://jts:wrong@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StorageUnavailable):
            await store.orders.list()
    finally:
        await store.close()
