"""A replay file goes through the bar checks: an unusable row is skipped, never a crash."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.app.summary import summarise
from jts.domain.errors import ConfigurationError

ROWS = """\
timestamp,symbol,open,high,low,close,volume
2026-03-03T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1200
0001-01-01T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1200
2026-03-03T09:01:00+09:00,KRX:005930,70000,70200,69900,70100,800
2026-03-07T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1200
2026-03-03T09:02:00+09:00,KRX:005930,70100,70200,70000,70100,500
"""


async def test_a_year_one_row_is_skipped_and_the_demo_path_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    replay = tmp_path / "replay.csv"
    replay.write_text(ROWS)
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=None,
        feed={"source": "file", "replay_file": str(replay)},
    )
    with caplog.at_level(logging.WARNING, logger="jts.app"):
        platform = await open_platform(settings)
    try:
        assert "3 bars, 1 symbols, 2 bad rows skipped" in platform.source.description
        await platform.run()
        summary = await summarise(platform)
        stored = await platform.bar_store.read_bars("KRX:005930", 0, 2**62)
    finally:
        await platform.close()
    assert summary.books.balanced
    assert len(stored) == 3
    warnings = [r.getMessage() for r in caplog.records]
    assert any("line 3 skipped" in w and "outside the years" in w for w in warnings)
    assert any("line 5 skipped" in w and "Sat" in w for w in warnings)


async def test_a_replay_from_before_the_tax_schedule_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    replay = tmp_path / "replay.csv"
    replay.write_text(
        "timestamp,symbol,open,high,low,close,volume\n"
        "2020-01-06T09:00:00+09:00,KRX:005930,55000,55100,54900,55000,1200\n"
    )
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=None,
        feed={"source": "file", "replay_file": str(replay)},
    )
    with pytest.raises(ConfigurationError, match="before the KRX tax schedule"):
        await open_platform(settings)
