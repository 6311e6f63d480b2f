"""Engines for the relational store from the plain URLs found in settings.

Settings say ``sqlite:///path`` or ``postgresql://...``; the async code needs the
aiosqlite / psycopg drivers and Alembic a synchronous driver, so URLs are
translated here rather than asking users to spell driver names.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool

from jts.domain.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 5_000

_POSTGRES_SCHEMES = ("postgresql", "postgres")


def _split(url: str) -> tuple[str, str]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError(f"not a database URL: {url!r}")
    backend, _, _driver = scheme.partition("+")
    return backend, rest


def to_async_url(url: str) -> str:
    """``sqlite:///x`` -> ``sqlite+aiosqlite:///x``; ``postgres(ql)://`` -> ``postgresql+psycopg://``."""
    backend, rest = _split(url)
    if backend == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if backend in _POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    raise ConfigurationError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def to_sync_url(url: str) -> str:
    """The same database through a blocking driver (psycopg 3 serves both modes)."""
    backend, rest = _split(url)
    if backend == "sqlite":
        return f"sqlite://{rest}"
    if backend in _POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    raise ConfigurationError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def is_sqlite(url: str) -> bool:
    return _split(url)[0] == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for in-memory databases and other back ends."""
    if not is_sqlite(url):
        return None
    database = make_url(to_sync_url(url)).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder; a fresh checkout has neither."""
    path = sqlite_path(url)
    if path is not None:
        path.expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default
    # in SQLite; the busy timeout turns a brief lock into a wait instead of an error.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def create_engine_for(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with the settings JTS relies on.

    ``hide_parameters``: SQLAlchemy's error messages quote a failed statement's
    parameters, and those messages reach logs and tracebacks.
    """
    async_url = to_async_url(url)
    if not is_sqlite(url):
        return create_async_engine(async_url, echo=echo, pool_pre_ping=True, hide_parameters=True)
    ensure_sqlite_directory(url)
    options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if sqlite_path(url) is None:
        # One shared connection, or every pooled connection sees its own empty database.
        options["poolclass"] = StaticPool
    engine = create_async_engine(async_url, **options)
    sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sync_engine_for(url: str) -> sa.Engine:
    """A blocking engine, for migrations and command-line tools."""
    sync_url = to_sync_url(url)
    if not is_sqlite(url):
        return sa.create_engine(sync_url, pool_pre_ping=True, hide_parameters=True)
    ensure_sqlite_directory(url)
    engine = sa.create_engine(sync_url, poolclass=sa.pool.NullPool, hide_parameters=True)

    def _busy_timeout(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    sa.event.listen(engine, "connect", _busy_timeout)
    return engine
