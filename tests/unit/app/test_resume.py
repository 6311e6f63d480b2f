"""A resumed run starts after the latest market time any store recorded, never before."""

from __future__ import annotations

import os
import uuid
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.timestamps import dt_to_ns
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore

# 2026-11-05 10:00 KST: the fourth session from the default start date, 2026-11-02.
ORDER_TS = dt_to_ns(datetime(2026, 11, 5, 1, 0, tzinfo=UTC))
MINUTE = 60_000_000_000


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def test_an_order_later_than_every_stored_bar_moves_the_resume_point(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.sql_url)
    sql = SqlStore.open(settings.sql_url)
    try:
        # A crash lost the bars behind this order (no bar is stored at all).
        await sql.orders.add(
            Order(
                instrument_id="KRX:005930",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal(1),
                price=Decimal(70_000),
                created_ts=ORDER_TS,
                broker="paper",
                strategy_id=settings.strategy.id,
                signal_id=uuid.uuid4().hex,
                time_in_force=TimeInForce.DAY,
            )
        )
    finally:
        await sql.close()

    platform = await open_platform(settings, sessions=1, resume=True)
    try:
        assert "from 2026-11-06" in platform.source.description
        assert platform.resumed_from_ns == ORDER_TS
        # Anything stamped before the first bar (reconciliation) carries that time, not 1970.
        assert platform.clock.timestamp_ns() == ORDER_TS
    finally:
        await platform.close()


async def test_a_store_replay_plays_the_stored_bars_and_a_resume_skips_only_what_traded(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data",
        feed={"source": "store", "symbols": ["KRX:005930"], "sessions": 1},
    )
    settings.data_dir.mkdir(parents=True)
    opened = dt_to_ns(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))  # 09:00 KST
    price = Decimal(70_000)
    store = await ClickHouseBarStore.open(None, settings.data_dir)
    try:
        await store.write_bars(
            [
                Bar("KRX:005930", Timeframe.M1, opened + m * MINUTE, *(price,) * 4, Decimal(100))
                for m in range(5)
            ]
        )
    finally:
        await store.close()

    # The stored bars are the replay's input, not its progress: all five are played.
    platform = await open_platform(settings, resume=True)
    try:
        await platform.run()
        assert platform.steps == 5
    finally:
        await platform.close()
