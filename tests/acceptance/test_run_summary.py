"""A resumed ``jts run`` reports its own orders and fills beside the store's totals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.app.summary import RunSummary
from jts.app.summary import summarise

pytestmark = pytest.mark.acceptance


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def _one_more_session(data_dir: Path) -> RunSummary:
    settings = load_settings(data_dir=data_dir, database_url=None, clickhouse_url=None)
    platform = await open_platform(settings, sessions=1, resume=True)
    try:
        await platform.run()
        return await summarise(platform)
    finally:
        await platform.close()


async def test_a_resumed_run_counts_this_run_apart_from_the_store(tmp_path: Path) -> None:
    first = await _one_more_session(tmp_path / "data")
    second = await _one_more_session(tmp_path / "data")

    assert first.orders_by_status == first.stored_orders_by_status
    assert first.fills == first.stored_fills > 0
    assert second.fills > 0
    assert second.stored_fills == first.stored_fills + second.fills
    for status, count in second.stored_orders_by_status.items():
        # Orders only move forward in status, so a status's store count covers this run's.
        assert second.orders_by_status.get(status, 0) <= count
    assert sum(second.stored_orders_by_status.values()) == sum(
        first.stored_orders_by_status.values()
    ) + sum(second.orders_by_status.values())
    # This run's curve: its own minutes (an opening point, then one per minute), to the end.
    assert len(second.equity_points) == second.steps + 1
    assert first.equity_points[-1][0] < second.equity_points[0][0]
    assert second.equity_points[-1][1] == second.equity
