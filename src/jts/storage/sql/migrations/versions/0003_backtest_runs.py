"""Stored backtest runs: inputs, metrics and fingerprint of each ``jts backtest run``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jts.storage.sql.types import Money
from jts.storage.sql.types import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("strategy", sa.String(255), nullable=False),
        sa.Column("strategy_id", sa.String(255), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("symbols", sa.Text(), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("slippage", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("starting_cash", Money(), nullable=False),
        sa.Column("final_equity", Money(), nullable=False),
        sa.Column("total_return", Money(), nullable=False),
        sa.Column("max_drawdown", Money(), nullable=False),
        sa.Column("sharpe", Money(), nullable=True),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("fills", sa.Integer(), nullable=False),
        sa.Column("commission", Money(), nullable=False),
        sa.Column("tax", Money(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("output_dir", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_runs")),
    )
    op.create_index(op.f("ix_backtest_runs_created_ts"), "backtest_runs", ["created_ts"])


def downgrade() -> None:
    op.drop_index(op.f("ix_backtest_runs_created_ts"), table_name="backtest_runs")
    op.drop_table("backtest_runs")
