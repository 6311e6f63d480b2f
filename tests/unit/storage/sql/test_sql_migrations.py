"""The packaged Alembic migrations build exactly the schema tables.py describes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jts.domain.errors import StorageError
from jts.storage.sql.engine import create_sync_engine_for
from jts.storage.sql.migrate import alembic_config
from jts.storage.sql.migrate import check_schema_current
from jts.storage.sql.migrate import current_revision
from jts.storage.sql.migrate import head_revision
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.tables import Base

ROADMAP_COLUMNS = {
    "strategies": {
        "id": "uuid",
        "name": "string",
        "dsl_code": "text",
        "status": "string",
        "created_at": "timestamp",
    },
    "orders": {
        "id": "uuid",
        "strategy_id": "uuid",
        "symbol": "string",
        "side": "string",
        "quantity": "decimal",
        "price": "decimal",
        "status": "string",
        "broker": "string",
        "created_at": "timestamp",
    },
}
LENGTHS = {
    ("strategies", "name"): 255,
    ("strategies", "status"): 50,
    ("orders", "symbol"): 50,
    ("orders", "side"): 10,
    ("orders", "status"): 50,
    ("orders", "broker"): 50,
}


@pytest.fixture
def sync_engine(sql_url: str) -> Iterator[sa.Engine]:
    engine = create_sync_engine_for(sql_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _columns(engine: sa.Engine, table: str) -> dict[str, dict[str, Any]]:
    return {column["name"]: dict(column) for column in sa.inspect(engine).get_columns(table)}


def _kind_matches(kind: str, column_type: sa.types.TypeEngine[Any], dialect: str) -> bool:
    pg = dialect == "postgresql"
    t = column_type
    checks = {
        # PostgreSQL has a native UUID; SQLite stores sqlalchemy.Uuid as CHAR(32).
        "uuid": isinstance(t, sa.Uuid) if pg else isinstance(t, sa.CHAR) and t.length == 32,
        "string": isinstance(t, sa.String) and not isinstance(t, sa.Text),
        "text": isinstance(t, sa.Text),
        "timestamp": isinstance(t, sa.DateTime) and (bool(t.timezone) or not pg),
        # Exact on both: NUMERIC on PostgreSQL, canonical decimal text on SQLite.
        "decimal": (
            isinstance(t, sa.Numeric) and not isinstance(t, sa.Float)
            if pg
            else isinstance(t, sa.String)
        ),
    }
    return checks[kind]


def test_roadmap_columns_have_the_right_types(sql_url: str, sync_engine: sa.Engine) -> None:
    upgrade(sql_url)
    dialect = sync_engine.dialect.name
    for table, expected in ROADMAP_COLUMNS.items():
        columns = _columns(sync_engine, table)
        for name, kind in expected.items():
            assert name in columns, f"{table}.{name} missing"
            column_type = columns[name]["type"]
            assert _kind_matches(kind, column_type, dialect), f"{table}.{name}: {column_type!r}"
    for (table, name), length in LENGTHS.items():
        assert _columns(sync_engine, table)[name]["type"].length == length


def test_all_tables_and_indexes_exist(sql_url: str, sync_engine: sa.Engine) -> None:
    upgrade(sql_url)
    inspector = sa.inspect(sync_engine)
    assert {"strategies", "orders", "fills", "positions", "order_audit"} <= set(
        inspector.get_table_names()
    )
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("orders", "fills", "order_audit")
        for index in inspector.get_indexes(table)
    }
    assert ("orders", ("status",)) in indexed
    assert ("orders", ("symbol",)) in indexed
    assert ("fills", ("order_id",)) in indexed
    assert ("order_audit", ("order_id",)) in indexed
    uniques = {
        (table, tuple(unique["column_names"]))
        for table in ("strategies", "orders", "fills", "positions")
        for unique in inspector.get_unique_constraints(table)
    }
    assert ("strategies", ("name",)) in uniques
    assert ("orders", ("client_order_id",)) in uniques
    assert ("fills", ("fill_id",)) in uniques
    assert ("positions", ("account", "symbol")) in uniques
    audit = _columns(sync_engine, "order_audit")
    assert audit["from_status"]["nullable"] is True
    assert audit["to_status"]["nullable"] is False
    assert _columns(sync_engine, "orders")["client_order_id"]["nullable"] is False


def test_migrated_schema_matches_the_orm_metadata(sql_url: str, sync_engine: sa.Engine) -> None:
    upgrade(sql_url)
    with sync_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_schema_check_refuses_an_unmigrated_database(sql_url: str) -> None:
    assert current_revision(sql_url) is None
    with pytest.raises(StorageError, match="run `jts db upgrade`"):
        check_schema_current(sql_url)
    upgrade(sql_url)
    assert current_revision(sql_url) == head_revision()
    check_schema_current(sql_url)


def test_upgrade_twice_is_harmless(sql_url: str) -> None:
    upgrade(sql_url)
    upgrade(sql_url)
    assert current_revision(sql_url) == head_revision()


def test_schema_check_names_a_database_migrated_by_a_newer_jts(
    sql_url: str, sync_engine: sa.Engine
) -> None:
    upgrade(sql_url)
    with sync_engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    with pytest.raises(StorageError, match="newer version"):
        check_schema_current(sql_url)


def test_downgrade_to_base_removes_every_table(sql_url: str, sync_engine: sa.Engine) -> None:
    upgrade(sql_url)
    with sync_engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(sa.inspect(sync_engine).get_table_names()) <= {"alembic_version"}
    upgrade(sql_url)
    assert "orders" in sa.inspect(sync_engine).get_table_names()


def test_unknown_target_revision_is_a_storage_error(sql_url: str) -> None:
    with pytest.raises(StorageError, match="to nope failed"):
        upgrade(sql_url, "nope")


def test_errors_do_not_show_the_password() -> None:
    with pytest.raises(StorageError) as caught:
        current_revision("postgresql://jts:s3cret@127.0.0.1:1/postgres")
    assert "s3cret" not in str(caught.value)
    assert "jts:***@127.0.0.1:1" in str(caught.value)
