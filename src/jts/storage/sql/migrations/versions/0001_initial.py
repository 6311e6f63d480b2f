"""Initial schema: strategies, orders, fills, positions and the order audit trail.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jts.storage.sql.types import Money
from jts.storage.sql.types import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "strategies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("dsl_code", sa.Text(), nullable=True),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
        sa.UniqueConstraint("name", name=op.f("uq_strategies_name")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strategy_id", sa.Uuid(), nullable=True),
        sa.Column("strategy_ref", sa.String(255), nullable=True),
        sa.Column("symbol", sa.String(50), nullable=False),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("price", Money(), nullable=True),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("broker", sa.String(50), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("order_type", sa.String(20), nullable=False),
        sa.Column("time_in_force", sa.String(10), nullable=False),
        sa.Column("filled_quantity", Money(), nullable=False),
        sa.Column("avg_fill_price", Money(), nullable=True),
        sa.Column("venue_order_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("signal_id", sa.String(128), nullable=True),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("updated_ts", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_symbol", "orders", ["symbol"])
    op.create_table(
        "fills",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("fill_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(50), nullable=False),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("commission", Money(), nullable=False),
        sa.Column("tax", Money(), nullable=False),
        sa.Column("liquidity", sa.String(10), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("executed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("fill_id", name=op.f("uq_fills_fill_id")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders")),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_table(
        "positions",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(50), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("avg_price", Money(), nullable=False),
        sa.Column("realised_pnl", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("taxes", Money(), nullable=False),
        sa.Column("bought_quantity", Money(), nullable=False),
        sa.Column("sold_quantity", Money(), nullable=False),
        sa.Column("last_price", Money(), nullable=True),
        sa.Column("updated_ts", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint("account", "symbol", name=op.f("uq_positions_account_symbol")),
    )
    op.create_table(
        "order_audit",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(50), nullable=True),
        sa.Column("to_status", sa.String(50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_audit")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_audit_order_id_orders")
        ),
    )
    op.create_index("ix_order_audit_order_id", "order_audit", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_audit_order_id", table_name="order_audit")
    op.drop_table("order_audit")
    op.drop_table("positions")
    op.drop_index("ix_fills_order_id", table_name="fills")
    op.drop_table("fills")
    op.drop_index("ix_orders_symbol", table_name="orders")
    op.drop_index("ix_orders_status", table_name="orders")
    op.drop_table("orders")
    op.drop_table("strategies")
