"""A run replayed from its own stored bars trades exactly as the live simulated run did."""

from __future__ import annotations

from pathlib import Path

import pytest

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.app.summary import summarise
from jts.storage.files import write_bar_csv

pytestmark = pytest.mark.acceptance


async def _run(data_dir: Path, **feed: object) -> tuple[list[tuple[object, ...]], object, Path]:
    settings = load_settings(
        data_dir=data_dir, feed={"sessions": 1, "seed": 11, **feed}, database_url=None
    )
    platform = await open_platform(settings)
    try:
        await platform.run()
        summary = await summarise(platform)
        fills = sorted(
            (f.instrument_id, f.side, f.quantity, f.price, f.commission, f.tax, f.ts)
            for f in await platform.sql.fills.list()
        )
        bars = []
        for instrument_id in await platform.bar_store.instruments():
            bars += await platform.bar_store.read_bars(instrument_id, 0, 2**62)
        csv = data_dir / "bars.csv"
        write_bar_csv(csv, bars)
    finally:
        await platform.close()
    assert summary.books.balanced
    return fills, summary.cash, csv


async def test_replaying_stored_bars_reproduces_every_fill(tmp_path: Path) -> None:
    live_fills, live_cash, csv = await _run(tmp_path / "live")
    assert live_fills, "the simulated session should trade"
    replay_fills, replay_cash, _ = await _run(
        tmp_path / "replay", source="file", replay_file=str(csv)
    )
    assert replay_fills == live_fills
    assert replay_cash == live_cash
