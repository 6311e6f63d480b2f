"""Stored backtest runs: each field back as written, newest first, on every store."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest

from jts.domain.backtests import BacktestRun
from jts.domain.errors import StorageError
from jts.storage.memory import MemoryStore
from jts.storage.sql.repositories import SqlStore

Store = SqlStore | MemoryStore

D = Decimal


def make_run(created: datetime, **changes: object) -> BacktestRun:
    run = BacktestRun(
        run_id=str(uuid.uuid4()),
        created_at=created,
        strategy="sma_cross",
        strategy_id="backtest-sma_cross",
        params={"fast": 3, "slow": 8, "threshold": D("0.5")},
        symbols=("KRX:005930", "KRX:000660"),
        start_ts=1_793_000_000_000_000_000,
        end_ts=1_793_000_600_000_000_000,
        account="krx",
        slippage="ticks:1",
        source="bars.csv",
        starting_cash=D(10_000_000),
        final_equity=D("10012345.5"),
        total_return=D("0.0012345500"),
        max_drawdown=D("0.0031000000"),
        sharpe=D("1.234567"),
        trades=4,
        fills=5,
        commission=D(321),
        tax=D(4_560),
        fingerprint="ab" * 32,
        output_dir="/tmp/out",
    )
    return replace(run, **changes)  # type: ignore[arg-type]


async def test_a_run_comes_back_whole_and_runs_list_newest_first(store: Store) -> None:
    older = make_run(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    newer = make_run(datetime(2026, 12, 2, 9, 0, 0, 123_456, tzinfo=UTC), sharpe=None)
    await store.backtest_runs.add(older)
    await store.backtest_runs.add(newer)
    listed = await store.backtest_runs.list()
    assert [run.run_id for run in listed] == [newer.run_id, older.run_id]
    back = await store.backtest_runs.get(older.run_id)
    # Decimals in params keep their text (JSON has no decimal type).
    assert back == replace(older, params={"fast": 3, "slow": 8, "threshold": "0.5"})
    assert listed[0].sharpe is None
    assert listed[0].created_at == newer.created_at
    assert await store.backtest_runs.list(limit=1) == [listed[0]]
    assert await store.backtest_runs.get(str(uuid.uuid4())) is None
    assert await store.backtest_runs.get("not-a-uuid") is None


async def test_a_run_id_is_stored_once(store: Store) -> None:
    run = make_run(datetime(2026, 12, 1, tzinfo=UTC))
    await store.backtest_runs.add(run)
    with pytest.raises(StorageError):
        await store.backtest_runs.add(run)
    with pytest.raises(StorageError, match="not JSON"):
        await store.backtest_runs.add(make_run(run.created_at, params={"x": object()}))
