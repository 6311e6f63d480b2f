"""``jts backtest run`` over the bars a ``jts demo`` stored in its data folder.

The demo paper-traded those bars live, through the same kernel and matching engine, so
a backtest of the same strategy with the same settings must make the same fills.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jts.domain.timestamps import dt_to_ns
from jts.storage.sql.repositories import SqlStore

pytestmark = pytest.mark.acceptance


def _jts(where: Path, data_dir: Path, *args: str) -> str:
    """The installed ``jts`` as from a cron job: output to a pipe, no terminal."""
    script = Path(sys.executable).parent / "jts"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_") and k != "COLUMNS"}
    env.update(JTS_DATA_DIR=str(data_dir), NO_COLOR="1")
    result = subprocess.run(
        [str(script), *args],
        cwd=where,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return result.stdout


Row = tuple[str, str, Decimal, Decimal, Decimal, Decimal, int]


async def _stored_fills(data_dir: Path) -> list[Row]:
    store = SqlStore.open(f"sqlite:///{data_dir / 'jts.db'}", read_only=True)
    try:
        fills = await store.fills.list()
    finally:
        await store.close()
    return sorted(
        (f.instrument_id, f.side.value, f.quantity, f.price, f.commission, f.tax, f.ts)
        for f in fills
    )  # fmt: skip


def test_a_backtest_of_the_demos_stored_bars_trades_as_the_demo_did(tmp_path: Path) -> None:
    _jts(tmp_path, tmp_path / "data", "demo", "--sessions", "1")
    demo_dir = tmp_path / "data" / "demo"
    demo_fills = asyncio.run(_stored_fills(demo_dir))
    assert demo_fills

    first = _jts(tmp_path, demo_dir, "backtest", "run")
    again = _jts(tmp_path, demo_dir, "backtest", "run")
    prints = [
        re.search(r"^fingerprint ([0-9a-f]{64})$", out, re.MULTILINE) for out in (first, again)
    ]
    assert prints[0] and prints[1], first
    assert prints[0].group(1) == prints[1].group(1)
    progress = [line for line in first.splitlines() if "  minutes " in line]
    assert len(progress) == 1 and "minutes 390/390  bars 1,950" in progress[0], progress

    # The backtest's trade list is the demo's, fill for fill.
    runs = sorted((demo_dir / "backtests").iterdir())
    trades = pq.read_table(runs[0] / "trades.parquet").to_pylist()
    backtest_fills = sorted(
        (t["instrument_id"], t["side"], Decimal(t["quantity"]), Decimal(t["price"]),
         Decimal(t["commission"]), Decimal(t["tax"]), _ns(t["ts"]))
        for t in trades
    )  # fmt: skip
    assert backtest_fills == demo_fills

    listed = _jts(tmp_path, demo_dir, "backtest", "list")
    assert listed.count(prints[0].group(1)[:16]) == 2, listed
    assert "2 backtest run(s)" in listed


def _ns(moment: object) -> int:
    """A Parquet ns timestamp back as integer ns (pandas' Timestamp keeps them; datetime not)."""
    value = getattr(moment, "value", None)
    if isinstance(value, int):
        return value
    assert isinstance(moment, datetime)
    return dt_to_ns(moment)
