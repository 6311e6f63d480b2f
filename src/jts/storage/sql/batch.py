"""A transaction of bulk statements in one driver call: the order path's one commit.

SQLAlchemy's executemany converts every parameter through its statement machinery,
and aiosqlite hops to its thread once per statement, begin and commit; for a
minute's ~46 orders (276 rows) that was 7-11 ms of CPU. Here each statement is
compiled once per dialect, each value converted by its column type's own bind
processor (the same text, UUID and timestamp forms as the Core path), and the
whole transaction runs as one call: on SQLite one hop to aiosqlite's thread; on
PostgreSQL psycopg's pipelined executemany per statement. Driver errors come out
as SQLAlchemy's exception classes, so the repositories tell duplicates (an
IntegrityError) and outages apart exactly as on their other paths.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled for one dialect, with its parameters' order and converters."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Processor, ...]
    positional: bool

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The driver's parameter sets: tuples (qmark) or dicts (pyformat), converted."""
        if not rows:
            return []
        take = itemgetter(*self.names)
        converted = [(i, convert) for i, convert in enumerate(self.processors) if convert]
        sets: list[Any] = []
        for row in rows:
            values = take(row)
            values = list(values) if len(self.names) > 1 else [values]
            for i, convert in converted:
                values[i] = convert(values[i])
            sets.append(
                tuple(values) if self.positional else dict(zip(self.names, values, strict=True))
            )
        return sets


@dataclass(frozen=True, slots=True)
class Step:
    """One executemany of the transaction."""

    statement: Prepared
    rows: Sequence[Mapping[str, Any]]


def prepare(statement: sa.Insert | sa.Update, keys: Sequence[str], dialect: Dialect) -> Prepared:
    """Compile ``statement`` for ``dialect`` with ``keys`` as its INSERT columns."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if compiled.insert_prefetch or compiled.postfetch:
        # Python-side defaults would need SQLAlchemy's execution context: not this path.
        raise ValueError(f"{statement} has column defaults the batch path cannot fill")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return Prepared(compiled.string, names, processors, positional)


class BatchWriter:
    """Runs a transaction of executemany steps on ``engine`` in one driver call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._prepared: dict[tuple[str, tuple[str, ...]], Prepared] = {}

    @property
    def supported(self) -> bool:
        return self._dialect.driver in ("aiosqlite", "psycopg")

    def prepared(
        self, name: str, statement: sa.Insert | sa.Update, keys: Sequence[str]
    ) -> Prepared:
        """``statement`` compiled once for this engine, cached under ``name`` and ``keys``."""
        key = (name, tuple(keys))
        found = self._prepared.get(key)
        if found is None:
            found = self._prepared[key] = prepare(statement, keys, self._dialect)
        return found

    async def run(self, steps: Sequence[Step], first_matches: int | None = None) -> list[int]:
        """Execute ``steps`` in one transaction and commit; each step's row count.

        ``first_matches``: the first step (an UPDATE matched on a precondition) must
        touch exactly that many rows, else the transaction is rolled back at once and
        ``Refused`` raised: nothing is written, and no later step runs.
        """
        batches = [(step.statement.sql, step.statement.parameters(step.rows)) for step in steps]
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            try:
                if self._dialect.driver == "aiosqlite":
                    return cast(
                        list[int],
                        await driver._execute(_sqlite_transaction, driver, batches, first_matches),  # type: ignore[union-attr]
                    )
                return await _psycopg_transaction(driver, batches, first_matches)
            except Refused:
                raise
            except self._dialect.loaded_dbapi.Error as exc:
                # The connection is returned to the pool, which rolls back what is left.
                raise DBAPIError.instance(
                    batches[0][0] if batches else "",
                    None,
                    exc,
                    self._dialect.loaded_dbapi.Error,
                    hide_parameters=True,
                    dialect=self._dialect,
                ) from exc


class Refused(Exception):
    """A batch's row counts broke its precondition: rolled back, nothing written."""

    def __init__(self, counts: list[int]) -> None:
        super().__init__(counts)
        self.counts = counts


def _sqlite_transaction(
    driver: Any, batches: list[tuple[str, list[Any]]], first_matches: int | None
) -> list[int]:
    """In aiosqlite's thread, on its sqlite3 connection: every statement, then commit."""
    connection: sqlite3.Connection = driver._conn
    counts: list[int] = []
    try:
        cursor = connection.cursor()
        try:
            # Explicit: whatever isolation_level the connection has, one transaction.
            cursor.execute("BEGIN")
            for sql, parameters in batches:
                cursor.executemany(sql, parameters)
                counts.append(cursor.rowcount)
                if first_matches is not None and len(counts) == 1 and counts[0] != first_matches:
                    raise Refused(counts)
        finally:
            cursor.close()
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return counts


async def _psycopg_transaction(
    driver: Any, batches: list[tuple[str, list[Any]]], first_matches: int | None
) -> list[int]:
    """On psycopg's connection: each executemany pipelined, then commit."""
    counts: list[int] = []
    try:
        async with driver.cursor() as cursor:
            for sql, parameters in batches:
                await cursor.executemany(sql, parameters)
                counts.append(cursor.rowcount)
                if first_matches is not None and len(counts) == 1 and counts[0] != first_matches:
                    raise Refused(counts)
        await driver.commit()
    except BaseException:
        await driver.rollback()
        raise
    return counts
