"""URL translation and engine settings for the relational store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from jts.domain.errors import ConfigurationError
from jts.storage.sql.engine import create_engine_for
from jts.storage.sql.engine import sqlite_path
from jts.storage.sql.engine import to_async_url
from jts.storage.sql.engine import to_sync_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/jts.db", "sqlite+aiosqlite:///data/jts.db"),
        ("sqlite:////abs/jts.db", "sqlite+aiosqlite:////abs/jts.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_to_async_url(url: str, expected: str) -> None:
    assert to_async_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///x.db", "sqlite:///x.db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_to_sync_url(url: str, expected: str) -> None:
    assert to_sync_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "jts.db", ""])
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        to_async_url(url)


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite:///rel/jts.db") == Path("rel/jts.db")
    assert sqlite_path("sqlite:////abs/jts.db") == Path("/abs/jts.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None


async def test_sqlite_engine_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "deeper" / "jts.db"
    engine = create_engine_for(f"sqlite:///{database}")
    try:
        assert database.parent.is_dir()
        async with engine.connect() as connection:
            journal = (await connection.execute(sa.text("PRAGMA journal_mode"))).scalar()
            foreign_keys = (await connection.execute(sa.text("PRAGMA foreign_keys"))).scalar()
            busy = (await connection.execute(sa.text("PRAGMA busy_timeout"))).scalar()
        assert journal == "wal"
        assert foreign_keys == 1
        assert busy == 5000
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_keeps_one_database_across_connections() -> None:
    engine = create_engine_for("sqlite:///:memory:")
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(sa.text("INSERT INTO t VALUES (7)"))
        async with engine.connect() as connection:
            assert (await connection.execute(sa.text("SELECT x FROM t"))).scalar() == 7
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres_engine_uses_psycopg(postgres_url: str) -> None:
    engine = create_engine_for(postgres_url)
    try:
        assert engine.dialect.name == "postgresql"
        assert engine.dialect.driver == "psycopg"
        async with engine.connect() as connection:
            assert (await connection.execute(sa.text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
