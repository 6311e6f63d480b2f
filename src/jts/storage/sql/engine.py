"""Engines for the relational store from the plain URLs found in settings.

Settings say ``sqlite:///path`` or ``postgresql://...``; the async code needs the
aiosqlite / psycopg drivers and Alembic a synchronous driver, so URLs are
translated here rather than asking users to spell driver names.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

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


def read_only_sqlite_url(url: str) -> str:
    """``url`` opened read-only: nothing is created, migrated or written.

    A WAL database needs its ``-shm`` file to be read; when that is absent and the
    folder is not writable (a read-only data folder), the file is opened immutable.
    """
    path = sqlite_path(url)
    if path is None:
        return url
    path = path.expanduser().resolve()
    backend, _ = _split(url)
    options = "mode=ro"
    shm = path.with_name(path.name + "-shm")
    if not shm.exists() and not _writable(path.parent):
        options += "&immutable=1"
    return f"{backend}:///file:{quote(str(path))}?{options}&uri=true"


def _writable(folder: Path) -> bool:
    # A probe, not os.access: that answers yes for root even on a read-only mount.
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


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


def create_engine_for(url: str, *, echo: bool = False, read_only: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with the settings JTS relies on.

    ``read_only`` (SQLite): for commands that only read; the file must exist.

    ``hide_parameters``: SQLAlchemy's error messages quote a failed statement's
    parameters, and those messages reach logs and tracebacks.
    """
    async_url = to_async_url(url)
    if not is_sqlite(url):
        return create_async_engine(async_url, echo=echo, pool_pre_ping=True, hide_parameters=True)
    options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if sqlite_path(url) is None:
        # One shared connection, or every pooled connection sees its own empty database.
        options["poolclass"] = StaticPool
    if read_only:
        engine = create_async_engine(to_async_url(read_only_sqlite_url(url)), **options)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_read_pragmas)
        return engine
    ensure_sqlite_directory(url)
    engine = create_async_engine(async_url, **options)
    sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # No journal_mode here: setting it is a write.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def create_sync_engine_for(url: str, *, read_only: bool = False) -> sa.Engine:
    """A blocking engine, for migrations and command-line tools (``read_only``: see above)."""
    sync_url = to_sync_url(url)
    if not is_sqlite(url):
        return sa.create_engine(sync_url, pool_pre_ping=True, hide_parameters=True)
    if read_only:
        sync_url = to_sync_url(read_only_sqlite_url(url))
    else:
        ensure_sqlite_directory(url)
    engine = sa.create_engine(sync_url, poolclass=sa.pool.NullPool, hide_parameters=True)

    def _busy_timeout(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    sa.event.listen(engine, "connect", _busy_timeout)
    return engine
