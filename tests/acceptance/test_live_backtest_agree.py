"""Issue 11, point 9: a paper run and ``jts backtest run`` over its bars decide alike.

The paper platform (``open_platform`` + ``Platform.run`` in lockstep, as ``jts run``
drives it: simulated feed, SQLite, the time-series store, the bar journal) trades two
sessions of five stocks with cash tight enough that a minute's signals compete for it.
Every bar it published on ``market.bars`` is recorded, written to a CSV, and replayed
with ``jts backtest run`` (the command line, in process) with the same settings. Then,
decision by decision: every signal (strategy, instrument, side, time), every order
(client order id, side, type, quantity, price, status) and every fill (time, quantity,
price, commission, tax) must be equal, and so must the fingerprint over fills and
equity. A difference is reported at the first decision that differs.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from jts.app.decisions import SignalLog
from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.backtest.fingerprint import decimal_text
from jts.backtest.fingerprint import fingerprint
from jts.cli import main
from jts.core import topics
from jts.domain.enums import OrderStatus
from jts.domain.events import BarEvent
from jts.domain.events import Event
from jts.domain.market import Bar
from jts.domain.timestamps import dt_to_ns
from jts.storage.files import write_bar_csv

pytestmark = pytest.mark.acceptance

SESSIONS = 2
SEED = 5
# About three 10-million orders at a time over five stocks: signals compete for the cash.
CASH = Decimal(32_000_000)

Decision = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Trail:
    """A run's decisions in a canonical text, each kind in its own defined order."""

    signals: list[Decision]
    orders: list[Decision]
    fills: list[Decision]
    fingerprint: str


def _d(value: Decimal | None) -> str:
    return "-" if value is None else decimal_text(value)


def signal_line(strategy: str, instrument: str, side: str, ts: int) -> Decision:
    return (str(ts), instrument, side, strategy)


def order_line(
    ts: int,
    client_order_id: str,
    instrument: str,
    side: str,
    order_type: str,
    quantity: Decimal,
    price: Decimal | None,
    status: str,
) -> Decision:
    return (str(ts), client_order_id, instrument, side, order_type, _d(quantity), _d(price),
            status)  # fmt: skip


def fill_line(
    ts: int,
    instrument: str,
    side: str,
    quantity: Decimal,
    price: Decimal,
    commission: Decimal,
    tax: Decimal,
) -> Decision:
    return (str(ts), instrument, side, _d(quantity), _d(price), _d(commission), _d(tax))


def first_difference(paper: Trail, backtest: Trail) -> str | None:
    """The first decision that differs, named by kind and position, or None."""
    for kind in ("signals", "orders", "fills"):
        ours: Sequence[Decision] = getattr(paper, kind)
        theirs: Sequence[Decision] = getattr(backtest, kind)
        for n, (left, right) in enumerate(zip(ours, theirs, strict=False)):
            if left != right:
                return f"{kind} #{n}: paper {left} != backtest {right}"
        if len(ours) != len(theirs):
            n = min(len(ours), len(theirs))
            extra = ours[n] if len(ours) > n else theirs[n]
            return f"{kind}: paper has {len(ours)}, backtest {len(theirs)}; #{n} is {extra}"
    if paper.fingerprint != backtest.fingerprint:
        return f"fingerprint: paper {paper.fingerprint} != backtest {backtest.fingerprint}"
    return None


def _environment(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JTS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("JTS_FEED__SESSIONS", str(SESSIONS))
    monkeypatch.setenv("JTS_FEED__SEED", str(SEED))
    monkeypatch.setenv("JTS_PAPER__STARTING_CASH", str(CASH))
    monkeypatch.setenv("COLUMNS", "250")


async def paper_run(data_dir: Path) -> tuple[Trail, list[Bar]]:
    """Two sessions of the paper platform as ``jts run`` drives it; its trail and its bars."""
    settings = load_settings(data_dir=data_dir)
    platform = await open_platform(settings)
    bars: list[Bar] = []

    async def record(event: Event) -> None:
        assert isinstance(event, BarEvent)
        bars.append(event.bar)

    platform.bus.subscribe(topics.MARKET_BARS, record, group="bar-recorder")
    signals = SignalLog().attach(platform.bus)
    try:
        await platform.run(lockstep=True)
        orders = await platform.sql.orders.list()
        fills = await platform.sql.fills.list()
    finally:
        await platform.close()
    trail = Trail(
        signals=sorted(
            signal_line(s.strategy_id, s.instrument_id, s.side.value, s.ts) for s in signals.signals
        ),
        orders=sorted(
            order_line(
                o.created_ts,
                o.client_order_id,
                o.instrument_id,
                o.side.value,
                o.order_type.value,
                o.quantity,
                o.price,
                o.status.value,
            )
            for o in orders
        ),
        fills=sorted(
            fill_line(f.ts, f.instrument_id, f.side.value, f.quantity, f.price, f.commission, f.tax)
            for f in fills
        ),
        fingerprint=fingerprint(fills, platform.equity.curve()),
    )
    return trail, bars


def backtest_run(csv: Path, out: Path, *args: str) -> Trail:
    """``jts backtest run`` over the recorded bars; its trail from the report files."""
    result = CliRunner().invoke(
        main.app, ["backtest", "run", "--csv", str(csv), "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    found = re.search(r"^fingerprint ([0-9a-f]{64})$", result.output, re.MULTILINE)
    assert found, result.output
    assert (out / "fingerprint.txt").read_text().strip() == found.group(1)
    signals = pq.read_table(out / "signals.parquet").to_pylist()
    orders = pq.read_table(out / "orders.parquet").to_pylist()
    fills = pq.read_table(out / "trades.parquet").to_pylist()
    return Trail(
        signals=sorted(
            signal_line(s["strategy_id"], s["instrument_id"], s["side"], _ns(s["ts"]))
            for s in signals
        ),
        orders=sorted(
            order_line(
                _ns(o["created_ts"]),
                o["client_order_id"],
                o["instrument_id"],
                o["side"],
                o["order_type"],
                Decimal(o["quantity"]),
                None if o["price"] is None else Decimal(o["price"]),
                o["status"],
            )
            for o in orders
        ),
        fills=sorted(
            fill_line(
                _ns(f["ts"]),
                f["instrument_id"],
                f["side"],
                Decimal(f["quantity"]),
                Decimal(f["price"]),
                Decimal(f["commission"]),
                Decimal(f["tax"]),
            )
            for f in fills
        ),
        fingerprint=found.group(1),
    )


def _ns(moment: object) -> int:
    value = getattr(moment, "value", None)  # pandas' Timestamp keeps the nanoseconds
    if isinstance(value, int):
        return value
    assert isinstance(moment, datetime)
    return dt_to_ns(moment)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trail, Path]:
    """One paper run for the module: its trail and the CSV of the bars it published."""
    folder = tmp_path_factory.mktemp("paper")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _environment(monkeypatch, folder / "data")
        trail, bars = asyncio.run(paper_run(folder / "data"))
    csv = folder / "bars.csv"
    assert write_bar_csv(csv, sorted(bars, key=lambda b: (b.ts, b.instrument_id))) == len(bars)
    return trail, csv


def test_a_backtest_of_a_paper_runs_bars_makes_its_decisions_one_by_one(
    recorded: tuple[Trail, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper, csv = recorded
    # Not a vacuous match: the run trades, and cash is tight enough that signals compete.
    assert len(paper.fills) > 20 and len(paper.orders) > len(paper.fills) // 2
    assert len(paper.signals) > len(paper.orders), "some signals should find no cash"
    statuses = {order[-1] for order in paper.orders}
    assert OrderStatus.FILLED.value in statuses
    _environment(monkeypatch, tmp_path / "data")
    backtest = backtest_run(csv, tmp_path / "report")
    assert first_difference(paper, backtest) is None
    assert paper == backtest


def test_a_backtest_with_other_settings_is_told_apart_at_its_first_decision(
    recorded: tuple[Trail, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper, csv = recorded
    _environment(monkeypatch, tmp_path / "data")
    # Half the cash: the same signals (they read only bars), but some order is sized or
    # refused differently, and the message names the first one.
    backtest = backtest_run(csv, tmp_path / "report", "--cash", str(CASH / 2))
    assert backtest.signals == paper.signals
    difference = first_difference(paper, backtest)
    assert difference is not None
    found = re.fullmatch(r"orders #(\d+): paper (.+) != backtest (.+)", difference)
    assert found, difference
    n = int(found.group(1))
    assert paper.orders[:n] == backtest.orders[:n]
    assert found.group(2) == str(paper.orders[n]) and found.group(3) == str(backtest.orders[n])
