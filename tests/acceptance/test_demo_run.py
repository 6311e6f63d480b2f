"""The demo, end to end: one simulated KRX session through every real part, books checked.

The books are recomputed here from the fills repository rather than trusted from
the run summary, and compared with the portfolio service and the paper venue.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from jts.app.platform import open_platform
from jts.app.settings import load_settings
from jts.app.summary import summarise
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side

pytestmark = pytest.mark.acceptance

ZERO = Decimal(0)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def test_one_demo_session_trades_and_the_books_balance(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "demo", feed={"sessions": 1})
    platform = await open_platform(settings)
    try:
        await platform.run()
        summary = await summarise(platform)
        orders = await platform.sql.orders.list()
        fills = await platform.sql.fills.list()
        trails = {o.order_id: await platform.sql.orders.audit_trail(o.order_id) for o in orders}
        venue = await platform.venue.account()
        portfolio = platform.kernel.portfolio
    finally:
        await platform.close()

    # It traded.
    by_status = defaultdict(list)
    for order in orders:
        by_status[order.status].append(order)
    assert len(by_status[OrderStatus.FILLED]) > 0
    assert len(fills) > 0
    assert not platform.bus.failed, list(platform.bus.failed)[:3]
    assert summary.strategy_faults == {}
    assert summary.quarantined == 0
    assert summary.bars == summary.bars_stored > 0

    # Cash: start - bought + sold - fees - taxes, from the stored fills, three ways.
    start = settings.paper.starting_cash
    bought = sum((f.notional for f in fills if f.side is Side.BUY), ZERO)
    sold = sum((f.notional for f in fills if f.side is Side.SELL), ZERO)
    fees = sum((f.commission for f in fills), ZERO)
    taxes = sum((f.tax for f in fills), ZERO)
    assert taxes > 0 and fees > 0
    expected_cash = start - bought + sold - fees - taxes
    assert portfolio.cash == expected_cash
    assert venue.cash == expected_cash
    assert summary.cash == expected_cash
    assert summary.books.balanced

    # Positions: bought - sold per instrument, at the portfolio and at the venue.
    net: dict[str, Decimal] = defaultdict(Decimal)
    for fill in fills:
        net[fill.instrument_id] += fill.quantity if fill.side is Side.BUY else -fill.quantity
    instruments = set(net) | set(portfolio.positions) | set(venue.positions)
    for instrument_id in instruments:
        held = portfolio.positions[instrument_id].quantity
        assert held == net[instrument_id], instrument_id
        assert venue.positions.get(instrument_id, ZERO) == held, instrument_id
    assert all(qty >= 0 for qty in net.values())  # the demo never sells short

    # Every order has a gapless audit trail from NEW to its current status.
    order_ids = {o.order_id for o in orders}
    for order in orders:
        trail = trails[order.order_id]
        assert trail[0][:2] == (None, OrderStatus.NEW), trail
        for (_, reached, _), (left, _, _) in pairwise(trail):
            assert left is reached, trail
        assert trail[-1][1] is order.status, trail
        assert order.status.is_terminal or order.status in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        ), order
        mine = [f for f in fills if f.order_id == order.order_id]
        assert order.filled_quantity == sum((f.quantity for f in mine), ZERO), order
    for order in by_status[OrderStatus.FILLED]:
        assert order.filled_quantity == order.quantity
    assert {f.order_id for f in fills} <= order_ids
    assert len({f.fill_id for f in fills}) == len(fills)


@dataclass(frozen=True)
class DemoRun:
    out: str
    svg: bytes
    data_dir: Path


def _jts_demo(where: Path, *args: str, **settings: str) -> DemoRun:
    """``jts demo`` as from a cron job or CI: output to a pipe, no terminal, no COLUMNS."""
    script = Path(sys.executable).parent / "jts"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_") and k != "COLUMNS"}
    env.update(JTS_DATA_DIR=str(where / "data"), NO_COLOR="1", **settings)
    where.mkdir(parents=True)
    result = subprocess.run(
        [str(script), "demo", *args],
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
    # A fresh demo has nothing to be alarmed about (a clock at 0 before the first bar is not).
    assert "[error" not in result.stdout + result.stderr, result.stderr[-3000:]
    data_dir = where / "data" / "demo"
    return DemoRun(result.stdout, (data_dir / "reports" / "demo-equity.svg").read_bytes(), data_dir)


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, DemoRun]:
    """The same seed twice: once from the options, once from the settings alone."""
    root = tmp_path_factory.mktemp("demo-cli")
    by_option = _jts_demo(root / "option", "--sessions", "1", "--seed", "11")
    by_setting = _jts_demo(root / "setting", JTS_FEED__SESSIONS="1", JTS_FEED__SEED="11")
    return by_option, by_setting


def test_jts_demo_command_prints_a_balanced_summary(demo_runs: tuple[DemoRun, DemoRun]) -> None:
    run = demo_runs[0]
    out = run.out
    assert "JTS demo summary" in out
    assert "P&L per symbol" in out
    assert "balanced" in out and "DO NOT BALANCE" not in out
    assert "filled" in out
    assert (run.data_dir / "jts.db").is_file()


def test_the_same_seed_from_settings_or_options_writes_the_same_chart(
    demo_runs: tuple[DemoRun, DemoRun],
) -> None:
    by_option, by_setting = demo_runs
    assert "1 session(s) from 2026-11-02, seed 11" in " ".join(by_setting.out.split())
    assert by_option.svg == by_setting.svg


def test_without_a_terminal_progress_and_tables_come_whole(
    demo_runs: tuple[DemoRun, DemoRun],
) -> None:
    lines = demo_runs[0].out.splitlines()
    progress = [line for line in lines if "  minutes " in line]
    assert len(progress) == 1, progress  # one session: one line
    assert re.fullmatch(
        r"2026-11-02 15:30 KST  minutes 390/390  bars 1,950  signals [\d,]+  "
        r"orders [\d,]+  fills [\d,]+  elapsed \d+:\d\d:\d\d",
        progress[0],
    ), progress[0]
    table = [line for line in lines if re.search(r"KRX:\d{6}", line)]
    assert len(table) == 5, table  # every symbol of the demo universe, its id whole
    assert not any("…" in line for line in lines), lines


def test_the_chart_and_the_summary_agree_and_the_chart_is_in_kst(
    demo_runs: tuple[DemoRun, DemoRun],
) -> None:
    out = " ".join(demo_runs[0].out.replace("│", " ").split())
    svg = demo_runs[0].svg.decode()
    equity = re.search(r" equity ([\d,]+) ", out)
    drawdown = re.search(r"max drawdown ([\d.]+%)", out)
    assert equity and drawdown, out
    assert f"final {equity.group(1)}," in svg
    assert f"worst -{drawdown.group(1)})" in svg or drawdown.group(1) == "0.00%"
    assert "UTC" not in svg
    assert re.findall(r">(2026-11-02 \d\d:\d\d KST)<", svg) == [
        "2026-11-02 09:01 KST",
        "2026-11-02 15:30 KST",
    ]
