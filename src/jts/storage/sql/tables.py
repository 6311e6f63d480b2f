"""ORM tables of the relational store; private to ``jts.storage.sql``.

The roadmap's ``strategies`` and ``orders`` columns come first, under their roadmap
names (``orders.symbol`` holds the instrument id ``VENUE:CODE``); what execution and
the portfolio also need follows. Times are kept twice where both uses matter:
integer UTC nanoseconds (``*_ts``, exact, what the domain uses) and an aware
timestamp (``*_at``, for people and SQL tools). Every change here needs a migration
in ``migrations/versions``; a test compares the two.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from jts.storage.sql.types import Money
from jts.storage.sql.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements an ``INTEGER PRIMARY KEY``; PostgreSQL gets a 64-bit serial.
SerialId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class StrategyRow(Base):
    __tablename__ = "strategies"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    dsl_code: Mapped[str | None] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(50))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.Index("ix_orders_status", "status"),
        sa.Index("ix_orders_symbol", "symbol"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True)
    # A UUID as the roadmap wants; ``strategy_ref`` keeps the domain's own string
    # (often a strategy name) from which it was derived.
    strategy_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    strategy_ref: Mapped[str | None] = mapped_column(sa.String(255))
    symbol: Mapped[str] = mapped_column(sa.String(50))
    side: Mapped[str] = mapped_column(sa.String(10))
    quantity: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str] = mapped_column(sa.String(50))
    broker: Mapped[str] = mapped_column(sa.String(50))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    client_order_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    order_type: Mapped[str] = mapped_column(sa.String(20))
    time_in_force: Mapped[str] = mapped_column(sa.String(10))
    filled_quantity: Mapped[Decimal] = mapped_column(Money())
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money())
    venue_order_id: Mapped[str | None] = mapped_column(sa.String(128))
    reason: Mapped[str | None] = mapped_column(sa.Text())
    signal_id: Mapped[str | None] = mapped_column(sa.String(128))
    created_ts: Mapped[int] = mapped_column(sa.BigInteger())
    updated_ts: Mapped[int] = mapped_column(sa.BigInteger())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Cash a market BUY spends (the venue sizes it at the fill price); NULL: by quantity.
    quote_quantity: Mapped[Decimal | None] = mapped_column(Money())


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (sa.Index("ix_fills_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    fill_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), sa.ForeignKey("orders.id"))
    client_order_id: Mapped[str] = mapped_column(sa.String(64))
    symbol: Mapped[str] = mapped_column(sa.String(50))
    side: Mapped[str] = mapped_column(sa.String(10))
    quantity: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    commission: Mapped[Decimal] = mapped_column(Money())
    tax: Mapped[Decimal] = mapped_column(Money())
    liquidity: Mapped[str] = mapped_column(sa.String(10))
    ts: Mapped[int] = mapped_column(sa.BigInteger())
    executed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (sa.UniqueConstraint("account", "symbol"),)

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(sa.String(64))
    symbol: Mapped[str] = mapped_column(sa.String(50))
    quantity: Mapped[Decimal] = mapped_column(Money())
    avg_price: Mapped[Decimal] = mapped_column(Money())
    realised_pnl: Mapped[Decimal] = mapped_column(Money())
    fees: Mapped[Decimal] = mapped_column(Money())
    taxes: Mapped[Decimal] = mapped_column(Money())
    bought_quantity: Mapped[Decimal] = mapped_column(Money())
    sold_quantity: Mapped[Decimal] = mapped_column(Money())
    last_price: Mapped[Decimal | None] = mapped_column(Money())
    updated_ts: Mapped[int] = mapped_column(sa.BigInteger())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OrderAuditRow(Base):
    """One row per order state change, creation included (``from_status`` NULL)."""

    __tablename__ = "order_audit"
    __table_args__ = (sa.Index("ix_order_audit_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), sa.ForeignKey("orders.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(50))
    to_status: Mapped[str] = mapped_column(sa.String(50))
    reason: Mapped[str | None] = mapped_column(sa.Text())
    ts: Mapped[int] = mapped_column(sa.BigInteger())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboxRow(Base):
    """An event to publish, written in the same transaction as the state it announces.

    The relay publishes rows in ``id`` order and sets ``published_ts``; a crash
    between the commit and the publish leaves the row here, to be published at the
    next start (consumers drop the copy by ``event_id`` if it did get out).
    Times are wall-clock UTC nanoseconds, for the relay's bookkeeping.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_published_ts", "published_ts"),)

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    topic: Mapped[str] = mapped_column(sa.String(64))
    event_key: Mapped[str] = mapped_column(sa.String(128))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[str] = mapped_column(sa.Text())
    created_ts: Mapped[int] = mapped_column(sa.BigInteger())
    published_ts: Mapped[int | None] = mapped_column(sa.BigInteger())


class BacktestRunRow(Base):
    """One stored backtest: its inputs, its metrics and its fingerprint (``jts backtest list``).

    ``params`` and ``symbols`` are JSON text: a run is read back whole, never queried by them.
    """

    __tablename__ = "backtest_runs"
    __table_args__ = (sa.Index("ix_backtest_runs_created_ts", "created_ts"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True)
    created_ts: Mapped[int] = mapped_column(sa.BigInteger())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    strategy: Mapped[str] = mapped_column(sa.String(255))
    strategy_id: Mapped[str] = mapped_column(sa.String(255))
    params: Mapped[str] = mapped_column(sa.Text())
    symbols: Mapped[str] = mapped_column(sa.Text())
    start_ts: Mapped[int] = mapped_column(sa.BigInteger())
    end_ts: Mapped[int] = mapped_column(sa.BigInteger())
    account: Mapped[str] = mapped_column(sa.String(64))
    slippage: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.Text())
    starting_cash: Mapped[Decimal] = mapped_column(Money())
    final_equity: Mapped[Decimal] = mapped_column(Money())
    total_return: Mapped[Decimal] = mapped_column(Money())
    max_drawdown: Mapped[Decimal] = mapped_column(Money())
    sharpe: Mapped[Decimal | None] = mapped_column(Money())
    trades: Mapped[int] = mapped_column(sa.Integer())
    fills: Mapped[int] = mapped_column(sa.Integer())
    commission: Mapped[Decimal] = mapped_column(Money())
    tax: Mapped[Decimal] = mapped_column(Money())
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    output_dir: Mapped[str | None] = mapped_column(sa.Text())
