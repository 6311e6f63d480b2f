"""The storage ports on SQLAlchemy: one short transaction per call, domain objects out.

Every order state change writes the order row and its audit row together, and a
fill in the same transaction, so the audit trail and the fills can never disagree
with the order. A fill is recognised by its venue ``fill_id``: replaying an
execution report changes nothing and says so.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from jts.core.codec import decode_event
from jts.core.codec import encode_event
from jts.domain.backtests import BacktestRun
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.errors import DataError
from jts.domain.errors import DuplicateOrder
from jts.domain.errors import StorageError
from jts.domain.errors import StorageUnavailable
from jts.domain.fills import Fill
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.domain.strategies import StrategyRecord
from jts.ports.storage import OutboxMessage
from jts.ports.storage import StatusChange
from jts.ports.storage import StoredOutboxMessage
from jts.storage.sql.batch import BatchWriter
from jts.storage.sql.batch import Refused
from jts.storage.sql.batch import Step
from jts.storage.sql.engine import create_engine_for
from jts.storage.sql.mapping import ORDER_STATE_COLUMNS
from jts.storage.sql.mapping import audit_row
from jts.storage.sql.mapping import audit_values
from jts.storage.sql.mapping import backtest_run_to_row
from jts.storage.sql.mapping import fill_to_row
from jts.storage.sql.mapping import order_state_values
from jts.storage.sql.mapping import order_to_row
from jts.storage.sql.mapping import order_values
from jts.storage.sql.mapping import position_values
from jts.storage.sql.mapping import row_to_backtest_run
from jts.storage.sql.mapping import row_to_fill
from jts.storage.sql.mapping import row_to_order
from jts.storage.sql.mapping import row_to_position
from jts.storage.sql.mapping import row_to_strategy
from jts.storage.sql.mapping import strategy_values
from jts.storage.sql.tables import BacktestRunRow
from jts.storage.sql.tables import FillRow
from jts.storage.sql.tables import OrderAuditRow
from jts.storage.sql.tables import OrderRow
from jts.storage.sql.tables import OutboxRow
from jts.storage.sql.tables import PositionRow
from jts.storage.sql.tables import StrategyRow
from jts.storage.values import check_submitted
from jts.storage.values import parse_uuid

# A locked SQLite file, a lost or refused connection, an exhausted pool: the same call may
# succeed later. Constraint violations and programming errors never will.
_OUTAGES = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
# SQLite reports a missing table as an OperationalError too; only these are outages there.
_SQLITE_OUTAGES = ("locked", "busy", "unable to open", "disk i/o")


class _Repository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._batch = BatchWriter(engine)

    @asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[AsyncSession]:
        """A session in a transaction; database failures become StorageError."""
        try:
            async with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            kind = StorageUnavailable if _is_outage(exc) else StorageError
            raise kind(f"{action} failed: {_describe(exc)}") from exc

    async def _write_batch(
        self,
        action: str,
        steps: Sequence[Step],
        first_matches: int | None = None,
    ) -> None:
        """``steps`` in one transaction, one driver call; failures become StorageError."""
        try:
            await self._batch.run(steps, first_matches)
        except SQLAlchemyError as exc:
            kind = StorageUnavailable if _is_outage(exc) else StorageError
            raise kind(f"{action} failed: {_describe(exc)}") from exc

    def _inserts(self, model: type[Any], rows: builtins.list[dict[str, Any]]) -> Step:
        """An executemany INSERT of ``rows`` (same keys in each) into ``model``'s table."""
        table = _table(model)
        return Step(
            self._batch.prepared(table.name, sa.insert(table), builtins.list(rows[0])), rows
        )

    def _upsert(
        self,
        model: type[Any],
        values: dict[str, object],
        keys: Sequence[str],
        keep: Sequence[str] = ("id",),
    ) -> sa.Insert:
        """INSERT ... ON CONFLICT (keys) DO UPDATE all but ``keep``, in the engine's dialect."""
        dialect = self._engine.dialect.name
        changing = [name for name in values if name not in keys and name not in keep]
        if dialect == "postgresql":
            pg = postgresql.insert(model).values(**values)
            return pg.on_conflict_do_update(
                index_elements=list(keys), set_={name: pg.excluded[name] for name in changing}
            )
        if dialect == "sqlite":
            lite = sqlite.insert(model).values(**values)
            return lite.on_conflict_do_update(
                index_elements=list(keys), set_={name: lite.excluded[name] for name in changing}
            )
        raise StorageError(f"no upsert for the {dialect} dialect")


def _is_outage(exc: SQLAlchemyError) -> bool:
    if not isinstance(exc, _OUTAGES):
        return False
    original = getattr(exc, "orig", None)
    if isinstance(original, sqlite3.Error):
        text = str(original).lower()
        return any(word in text for word in _SQLITE_OUTAGES)
    return True


def _describe(exc: SQLAlchemyError) -> str:
    """The driver's message without SQLAlchemy's statement dump and parameters."""
    original = getattr(exc, "orig", None)
    return str(original if original is not None else exc).strip().splitlines()[0]


def _outbox_values(messages: Sequence[OutboxMessage]) -> list[dict[str, Any]]:
    """The outbox rows' columns, for a bulk INSERT (no ORM object built)."""
    now = time.time_ns()
    return [
        {
            "event_id": m.event.event_id,
            "topic": m.topic,
            "event_key": m.event.key,
            "event_type": m.event.type,
            "payload": encode_event(m.event).decode("utf-8"),
            "created_ts": now,
            "published_ts": None,
        }
        for m in messages
    ]


def _outbox_rows(messages: Sequence[OutboxMessage]) -> list[OutboxRow]:
    return [OutboxRow(**values) for values in _outbox_values(messages)]


S_NEW = OrderStatus.NEW


def _table(model: type[Any]) -> sa.Table:
    """A mapped class's table, for a Core INSERT (the ORM's bulk path costs 3x more here)."""
    return cast(sa.Table, model.__table__)


def _state_update() -> sa.Update:
    """UPDATE one order's state columns where it is still in ``previous`` (by bind names)."""
    table = _table(OrderRow)
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("key"), table.c.status == sa.bindparam("previous"))
        .values({name: sa.bindparam(f"new_{name}") for name in ORDER_STATE_COLUMNS})
    )


_STATE_UPDATE = _state_update()


class SqlOrderRepository(_Repository):
    async def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        row = order_to_row(order)
        try:
            async with self._transaction(f"storing order {order.client_order_id}") as session:
                session.add(row)
                await session.flush()  # the audit row's foreign key needs the order first
                session.add(audit_row(row.id, None, order.status, order.reason, order.created_ts))
                session.add_all(_outbox_rows(outbox))
        except StorageError as exc:
            # The unique client order id is the duplicate check: no read before every insert.
            if isinstance(exc.__cause__, IntegrityError) and (
                await self.get_by_client_id(order.client_order_id) is not None
            ):
                raise DuplicateOrder(f"order {order.client_order_id} is stored already") from None
            raise

    async def add_submitted(self, placed: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> None:
        if not placed:
            return
        check_submitted([order for order, _ in placed])
        orders = [order_values(order) for order, _ in placed]
        audit: list[dict[str, Any]] = []
        for order, _ in placed:
            key = parse_uuid(order.order_id, "order id")
            audit.append(audit_values(key, None, S_NEW, None, order.created_ts))
            audit.append(audit_values(key, S_NEW, order.status, order.reason, order.updated_ts))
        outbox = _outbox_values([m for _, ms in placed for m in ms])
        action = f"storing {len(orders)} submitted order(s)"
        try:
            if self._batch.supported:
                # One transaction in one driver call: the order path's single commit.
                steps = [self._inserts(OrderRow, orders), self._inserts(OrderAuditRow, audit)]
                if outbox:
                    steps.append(self._inserts(OutboxRow, outbox))
                await self._write_batch(action, steps)
            else:
                # Bulk statements (one executemany per table), not a unit of work per object.
                async with self._transaction(action) as session:
                    await session.execute(sa.insert(_table(OrderRow)), orders)
                    await session.execute(sa.insert(_table(OrderAuditRow)), audit)
                    if outbox:
                        await session.execute(sa.insert(_table(OutboxRow)), outbox)
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                for order, _ in placed:
                    if await self.get_by_client_id(order.client_order_id) is not None:
                        raise DuplicateOrder(
                            f"order {order.client_order_id} is stored already"
                        ) from None
            raise

    async def save_transition(
        self,
        order: Order,
        previous: OrderStatus,
        *,
        reason: str | None = None,
        fill: Fill | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> bool:
        order_id = parse_uuid(order.order_id, "order id")
        action = f"saving order {order.client_order_id} {previous} -> {order.status}"
        if fill is None and self._batch.supported:
            await self._save_status(order, order_id, previous, reason, outbox, action)
            return True
        try:
            async with self._transaction(action) as session:
                # Write first: on SQLite a read-then-write transaction can fail to take
                # the write lock; writing first waits for it (busy timeout) instead.
                updated = await session.execute(
                    sa.update(OrderRow)
                    .where(OrderRow.id == order_id, OrderRow.status == previous.value)
                    .values(**order_state_values(order))
                    .execution_options(synchronize_session=False)
                )
                replay = fill is not None and await _fill_exists(session, fill.fill_id)
                if replay:
                    raise _AlreadyRecorded  # rolls the order update back
                if cast(CursorResult[Any], updated).rowcount != 1:
                    raise _StaleOrder(await self._stored_status(session, order_id))
                if fill is not None:
                    session.add(fill_to_row(fill))
                session.add(audit_row(order_id, previous, order.status, reason, order.updated_ts))
                session.add_all(_outbox_rows(outbox))
        except _AlreadyRecorded:
            return False
        except _StaleOrder as stale:
            where = "is not stored" if stale.status is None else f"is stored as {stale.status}"
            raise StorageError(
                f"{action} refused: order {order.order_id} {where}, not {previous}"
            ) from None
        except StorageError as exc:
            # Another writer may have recorded the same fill between our check and commit.
            replayed = fill is not None and isinstance(exc.__cause__, IntegrityError)
            if replayed and fill is not None and await self._fill_recorded(fill.fill_id):
                return False
            raise
        return True

    async def _save_status(
        self,
        order: Order,
        order_id: uuid.UUID,
        previous: OrderStatus,
        reason: str | None,
        outbox: Sequence[OutboxMessage],
        action: str,
    ) -> None:
        """A status change without a fill (a venue's ACCEPTED, say) in one driver call."""
        new = {f"new_{name}": value for name, value in order_state_values(order).items()}
        state = {"key": order_id, "previous": previous.value, **new}
        audit = audit_values(order_id, previous, order.status, reason, order.updated_ts)
        steps = [
            Step(self._batch.prepared("orders.state", _STATE_UPDATE, ()), [state]),
            self._inserts(OrderAuditRow, [audit]),
        ]
        if outbox:
            steps.append(self._inserts(OutboxRow, _outbox_values(outbox)))
        try:
            await self._write_batch(action, steps, first_matches=1)
        except Refused:
            async with self._transaction(action) as session:
                status = await self._stored_status(session, order_id)
            where = "is not stored" if status is None else f"is stored as {status}"
            raise StorageError(
                f"{action} refused: order {order.order_id} {where}, not {previous}"
            ) from None

    async def save_transitions(self, changes: Sequence[StatusChange]) -> None:
        if not changes:
            return
        action = f"saving {len(changes)} order status change(s)"
        audit: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        for change in changes:
            order = change.order
            key = parse_uuid(order.order_id, "order id")
            audit.append(
                audit_values(key, change.previous, order.status, change.reason, order.updated_ts)
            )
            new = {f"new_{name}": value for name, value in order_state_values(order).items()}
            states.append({"key": key, "previous": change.previous.value, **new})
        outbox = _outbox_values([m for c in changes for m in c.outbox])
        if self._batch.supported:
            # One executemany UPDATE for every order, in order (a second change of the
            # same order sees the first), each matched on its previous status; all of
            # it rolled back unless every row matched.
            update = Step(self._batch.prepared("orders.state", _STATE_UPDATE, ()), states)
            steps = [update, self._inserts(OrderAuditRow, audit)]
            if outbox:
                steps.append(self._inserts(OutboxRow, outbox))
            try:
                await self._write_batch(action, steps, first_matches=len(states))
            except Refused:
                raise StorageError(
                    f"{action} refused: an order is not stored in the status it moved from"
                    " (each change alone says which)"
                ) from None
            return
        async with self._transaction(action) as session:
            if self._engine.dialect.supports_sane_multi_rowcount:
                # One executemany for every order (in order: a second change of the same
                # order sees the first), each row matched on its previous status.
                updated = await session.execute(_STATE_UPDATE, states)
                if cast(CursorResult[Any], updated).rowcount != len(states):
                    # Raised inside: the transaction rolls back, nothing is written.
                    raise StorageError(
                        f"{action} refused: an order is not stored in the status it moved from"
                        " (each change alone says which)"
                    )
            else:
                for state in states:
                    updated = await session.execute(_STATE_UPDATE, state)
                    if cast(CursorResult[Any], updated).rowcount != 1:
                        status = await self._stored_status(session, state["key"])
                        where = "is not stored" if status is None else f"is stored as {status}"
                        raise StorageError(
                            f"{action} refused: order {state['key']} {where}, "
                            f"not {state['previous']}"
                        )
            await session.execute(sa.insert(_table(OrderAuditRow)), audit)
            if outbox:
                await session.execute(sa.insert(_table(OutboxRow)), outbox)

    async def get(self, order_id: str) -> Order | None:
        try:
            key = uuid.UUID(order_id)
        except ValueError:
            return None
        async with self._transaction(f"reading order {order_id}") as session:
            row = await session.get(OrderRow, key)
            return None if row is None else row_to_order(row)

    async def get_by_client_id(self, client_order_id: str) -> Order | None:
        async with self._transaction(f"reading order {client_order_id}") as session:
            row = await session.scalar(
                sa.select(OrderRow).where(OrderRow.client_order_id == client_order_id)
            )
            return None if row is None else row_to_order(row)

    async def list(
        self,
        *,
        statuses: Sequence[OrderStatus] | None = None,
        instrument_id: str | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        query = sa.select(OrderRow).order_by(OrderRow.created_ts.desc(), OrderRow.id.desc())
        if statuses is not None:
            query = query.where(OrderRow.status.in_([status.value for status in statuses]))
        if instrument_id is not None:
            query = query.where(OrderRow.symbol == instrument_id)
        if limit is not None:
            query = query.limit(limit)
        async with self._transaction("listing orders") as session:
            return [row_to_order(row) for row in await session.scalars(query)]

    async def net_filled(self, instrument_id: str, *, broker: str | None = None) -> Decimal:
        # Summed here, not in SQL: on SQLite the quantities are text (see types.Money).
        query = sa.select(FillRow.side, FillRow.quantity).where(FillRow.symbol == instrument_id)
        if broker is not None:
            query = query.join(OrderRow, OrderRow.id == FillRow.order_id).where(
                OrderRow.broker == broker
            )
        async with self._transaction(f"summing our fills of {instrument_id}") as session:
            rows = (await session.execute(query)).all()
        return sum(
            (quantity if side == Side.BUY.value else -quantity for side, quantity in rows),
            Decimal(0),
        )

    async def net_filled_all(self, *, broker: str | None = None) -> dict[str, Decimal]:
        query = sa.select(FillRow.symbol, FillRow.side, FillRow.quantity)
        if broker is not None:
            query = query.join(OrderRow, OrderRow.id == FillRow.order_id).where(
                OrderRow.broker == broker
            )
        async with self._transaction("summing our fills") as session:
            rows = (await session.execute(query)).all()
        net: dict[str, Decimal] = {}
        for symbol, side, quantity in rows:
            signed = quantity if side == Side.BUY.value else -quantity
            net[symbol] = net.get(symbol, Decimal(0)) + signed
        return net

    async def audit_trail(
        self, order_id: str
    ) -> builtins.list[tuple[OrderStatus | None, OrderStatus, int]]:
        key = parse_uuid(order_id, "order id")
        query = (
            sa.select(OrderAuditRow.from_status, OrderAuditRow.to_status, OrderAuditRow.ts)
            .where(OrderAuditRow.order_id == key)
            .order_by(OrderAuditRow.id)
        )
        async with self._transaction(f"reading the audit trail of {order_id}") as session:
            rows = (await session.execute(query)).all()
        return [
            (None if before is None else OrderStatus(before), OrderStatus(after), ts)
            for before, after, ts in rows
        ]

    async def _stored_status(self, session: AsyncSession, order_id: uuid.UUID) -> str | None:
        return await session.scalar(sa.select(OrderRow.status).where(OrderRow.id == order_id))

    async def _fill_recorded(self, fill_id: str) -> bool:
        async with self._transaction(f"looking up fill {fill_id}") as session:
            return await _fill_exists(session, fill_id)


class _AlreadyRecorded(Exception):
    """The fill is stored already: the transition is a replay."""


class _StaleOrder(Exception):
    """The stored order is not in the status the caller moved it from."""

    def __init__(self, status: str | None) -> None:
        super().__init__(status)
        self.status = status


async def _fill_exists(session: AsyncSession, fill_id: str) -> bool:
    found = await session.scalar(sa.select(FillRow.id).where(FillRow.fill_id == fill_id))
    return found is not None


class SqlOutboxRepository(_Repository):
    async def pending(self, limit: int = 1000) -> list[StoredOutboxMessage]:
        query = (
            sa.select(OutboxRow)
            .where(OutboxRow.published_ts.is_(None))
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        async with self._transaction("reading the outbox") as session:
            rows = list(await session.scalars(query))
        messages = []
        for row in rows:
            try:
                event = decode_event(row.payload.encode("utf-8"))
            except DataError as exc:
                # Written by this code, so only a schema change without a migration of
                # old rows gets here: say which row, do not publish garbage.
                raise StorageError(f"outbox row {row.id} ({row.event_type}): {exc}") from exc
            message = OutboxMessage(topic=row.topic, event=event)
            messages.append(StoredOutboxMessage(row.id, message, row.created_ts))
        return messages

    async def mark_published(self, event_ids: Sequence[str], ts: int) -> int:
        if not event_ids:
            return 0
        statement = (
            sa.update(OutboxRow)
            .where(OutboxRow.event_id.in_(list(event_ids)), OutboxRow.published_ts.is_(None))
            .values(published_ts=ts)
            .execution_options(synchronize_session=False)
        )
        async with self._transaction(f"marking {len(event_ids)} outbox rows") as session:
            result = await session.execute(statement)
        return int(cast(CursorResult[Any], result).rowcount)

    async def purge_published(self, before_ts: int) -> int:
        statement = (
            sa.delete(OutboxRow)
            .where(OutboxRow.published_ts.is_not(None), OutboxRow.published_ts < before_ts)
            .execution_options(synchronize_session=False)
        )
        async with self._transaction("purging the outbox") as session:
            result = await session.execute(statement)
        return int(cast(CursorResult[Any], result).rowcount)


class SqlFillRepository(_Repository):
    async def list(self, *, order_id: str | None = None) -> list[Fill]:
        query = sa.select(FillRow).order_by(FillRow.ts, FillRow.id)
        if order_id is not None:
            query = query.where(FillRow.order_id == parse_uuid(order_id, "order id"))
        async with self._transaction("listing fills") as session:
            return [row_to_fill(row) for row in await session.scalars(query)]


class SqlPositionRepository(_Repository):
    async def upsert(self, position: Position) -> None:
        statement = self._upsert(PositionRow, position_values(position), ("account", "symbol"))
        action = f"storing position {position.account}/{position.instrument_id}"
        async with self._transaction(action) as session:
            await session.execute(statement)

    async def list(self, account: str = "default") -> list[Position]:
        query = (
            sa.select(PositionRow)
            .where(PositionRow.account == account)
            .order_by(PositionRow.symbol)
        )
        async with self._transaction(f"listing positions of {account}") as session:
            return [row_to_position(row) for row in await session.scalars(query)]


class SqlStrategyRepository(_Repository):
    async def upsert(self, record: StrategyRecord) -> StrategyRecord:
        """Insert or update by name; the first id and creation time stay."""
        statement = self._upsert(
            StrategyRow, strategy_values(record), ("name",), keep=("id", "created_at")
        )
        statement = statement.returning(StrategyRow.id, StrategyRow.created_at)
        async with self._transaction(f"storing strategy {record.name}") as session:
            stored_id, created_at = (await session.execute(statement)).one()
        return StrategyRecord(
            name=record.name,
            status=record.status,
            created_at=created_at,
            dsl_code=record.dsl_code,
            id=str(stored_id),
        )

    async def list(self) -> list[StrategyRecord]:
        async with self._transaction("listing strategies") as session:
            rows = await session.scalars(sa.select(StrategyRow).order_by(StrategyRow.name))
            return [row_to_strategy(row) for row in rows]


class SqlBacktestRunRepository(_Repository):
    async def add(self, run: BacktestRun) -> None:
        async with self._transaction(f"storing backtest run {run.run_id}") as session:
            session.add(backtest_run_to_row(run))

    async def get(self, run_id: str) -> BacktestRun | None:
        try:
            key = uuid.UUID(run_id)
        except ValueError:
            return None
        async with self._transaction(f"reading backtest run {run_id}") as session:
            row = await session.get(BacktestRunRow, key)
            return None if row is None else row_to_backtest_run(row)

    async def list(self, *, limit: int | None = None) -> builtins.list[BacktestRun]:
        query = sa.select(BacktestRunRow).order_by(
            BacktestRunRow.created_ts.desc(), BacktestRunRow.id.desc()
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._transaction("listing backtest runs") as session:
            return [row_to_backtest_run(row) for row in await session.scalars(query)]


@dataclass(frozen=True, slots=True)
class SqlStore:
    """The relational store's repositories on one engine."""

    engine: AsyncEngine
    orders: SqlOrderRepository
    fills: SqlFillRepository
    positions: SqlPositionRepository
    strategies: SqlStrategyRepository
    outbox: SqlOutboxRepository
    backtest_runs: SqlBacktestRunRepository

    @classmethod
    def open(cls, url: str, *, read_only: bool = False) -> SqlStore:
        """Repositories on a new engine; the schema must already be migrated."""
        engine = create_engine_for(url, read_only=read_only)
        return cls(
            engine=engine,
            orders=SqlOrderRepository(engine),
            fills=SqlFillRepository(engine),
            positions=SqlPositionRepository(engine),
            strategies=SqlStrategyRepository(engine),
            outbox=SqlOutboxRepository(engine),
            backtest_runs=SqlBacktestRunRepository(engine),
        )

    async def close(self) -> None:
        await self.engine.dispose()
