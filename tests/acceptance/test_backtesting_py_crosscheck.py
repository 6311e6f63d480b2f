"""JTS's research account against backtesting.py: the same SMA cross, the same trades.

The rules (issue 11): SMA 10 / 30 of the closes; BUY when fast - slow goes from below
zero to above it between two closes, SELL the reverse; long only, one position; the
signal at the close of bar t fills at the open of bar t+1, buying
cash / (open x (1 + commission)) units (floored to 1e-8) and selling all; a signal on
the last bar never fills; what is held at the end is valued at the last close; 10,000
in cash; no commission, and 0.1% a side.

backtesting.py side: ``FractionalBacktest`` with ``fractional_unit=1e-8`` trades whole
units of 1e-8 shares (prices scaled by 1e-8). ``buy()`` with a size below 1 is a share
of the available margin: ``int(margin_available * size // (open * (1 + commission)))``
units, where margin_available is the cash when flat. A size of 1 would mean one unit,
so the largest share, ``1 - sys.float_info.epsilon`` (the default, shown as ".9999"),
is "all the cash"; it differs from exactly all the cash by 2.2e-16 relative, about
1e-6 of a unit here, which the conditioning check below shows cannot change a floor.
Commission is charged on entry and on exit on the notional; ``finalize_trades=False``
leaves the last trade open and values it at the last close in the final equity.

Tolerances. JTS computes in Decimal (exact here: prices have two decimals, quantities
eight); backtesting.py in binary floats, one rounding of at most 2^-53 (1.1e-16)
relative per operation. So: bars and trade counts must be equal; sizes must be the
same whole number of 1e-8 units (the float size carries an error of ~1e-7 units, far
below the half unit that rounding recovers); prices agree to 1e-12 relative (two
scalings by 1e-8, each one rounding); the final equity to 1e-12 relative (some 200
float operations over 33 trades accumulate at most ~2e-14; 4e-16 is what happens).
One unit of 1e-8 shares at the end moves the equity by ~1e-10 relative: caught twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import warnings
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import backtesting
import pandas as pd
import pyarrow.parquet as pq
import pytest
from backtesting import Strategy as BtStrategy
from backtesting.lib import FractionalBacktest
from backtesting.lib import crossover
from backtesting.test import GOOG
from backtesting.test import SMA
from typer.testing import CliRunner

from jts.app.research import ResearchResult
from jts.app.research import ResearchTrade
from jts.app.research import daily_bars
from jts.app.research import round_trips
from jts.app.research import run_research
from jts.backtest.fingerprint import decimal_text
from jts.cli import main
from jts.domain.enums import LiquiditySide
from jts.domain.enums import Side
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.timestamps import dt_to_ns
from jts.sim.research import research_instrument
from jts.strategy.indicators import sma
from jts.strategy.registry import create_strategy

pytestmark = pytest.mark.acceptance

CASH = 10_000
FAST, SLOW = 10, 30
UNIT = Decimal("1e-8")
INSTRUMENT = research_instrument("GOOG")
PRICE_TOLERANCE = 1e-12
EQUITY_TOLERANCE = 1e-12


class LongOnlySmaCross(BtStrategy):
    fast = FAST
    slow = SLOW

    def init(self) -> None:
        self.fast_sma = self.I(SMA, self.data.Close, self.fast)
        self.slow_sma = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.fast_sma, self.slow_sma):
            if not self.position:
                self.buy(size=1 - sys.float_info.epsilon)  # all the margin (= cash when flat)
        elif crossover(self.slow_sma, self.fast_sma) and self.position:
            self.position.close()


@dataclass(frozen=True)
class Expected:
    """backtesting.py's outcome in JTS's terms: trades (the open one last) and equity."""

    trades: list[ResearchTrade]
    final_equity: float


def goog_bars() -> list[Bar]:
    # repr() of each float is the CSV's decimal text: the prices are exactly those.
    rows = [
        (
            day.date(),
            Decimal(repr(o)),
            Decimal(repr(h)),
            Decimal(repr(lo)),
            Decimal(repr(c)),
            Decimal(int(v)),
        )
        for day, o, h, lo, c, v in GOOG[["Open", "High", "Low", "Close", "Volume"]].itertuples()
    ]
    return daily_bars(INSTRUMENT.key, rows)


def run_backtesting_py(commission: float) -> Expected:
    backtest = FractionalBacktest(
        GOOG,
        LongOnlySmaCross,
        cash=CASH,
        commission=commission,
        fractional_unit=1e-8,
        finalize_trades=False,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Some trades remain open")  # as asked
        warnings.filterwarnings("ignore", message="DatetimeIndex.dayofweek")  # its pandas use
        stats = backtest.run()
    frame: pd.DataFrame = stats["_trades"]
    trades = [
        ResearchTrade(
            quantity=Decimal(round(size * 10**8)) * UNIT,
            entry_bar=int(entry),
            entry_price=Decimal(repr(float(entry_price))),
            exit_bar=int(exit_),
            exit_price=Decimal(repr(float(exit_price))),
        )
        for size, entry, exit_, entry_price, exit_price in frame[
            ["Size", "EntryBar", "ExitBar", "EntryPrice", "ExitPrice"]
        ].itertuples(index=False)
    ]
    for trade in stats["_strategy"].trades:  # still open: sizes in units, prices scaled
        trades.append(
            ResearchTrade(
                quantity=Decimal(int(trade.size)) * UNIT,
                entry_bar=int(trade.entry_bar),
                entry_price=Decimal(repr(float(trade.entry_price) / 1e-8)),
            )
        )
    return Expected(trades, float(stats["Equity Final [$]"]))


def run_jts(commission: str) -> ResearchResult:
    strategy = create_strategy(
        "sma_cross",
        "sma-10-30",
        [INSTRUMENT.key],
        {"fast": FAST, "slow": SLOW, "cross": "adjacent"},
    )
    return asyncio.run(
        run_research(
            goog_bars(),
            strategy,
            INSTRUMENT,
            cash=Decimal(CASH),
            commission=Decimal(commission),
        )
    )


def differences(jts: ResearchResult, expected: Expected) -> list[str]:
    """Every way the JTS run differs from backtesting.py's, beyond float rounding."""
    found: list[str] = []
    if len(jts.trades) != len(expected.trades):
        found.append(f"{len(jts.trades)} trades in JTS, {len(expected.trades)} in backtesting.py")
    for n, (ours, theirs) in enumerate(zip(jts.trades, expected.trades, strict=False)):
        if (ours.entry_bar, ours.exit_bar) != (theirs.entry_bar, theirs.exit_bar):
            found.append(f"trade {n}: bars {ours.entry_bar}-{ours.exit_bar} vs "
                         f"{theirs.entry_bar}-{theirs.exit_bar}")  # fmt: skip
        if ours.quantity != theirs.quantity:
            found.append(f"trade {n}: size {ours.quantity} vs {theirs.quantity}")
        pairs = [(ours.entry_price, theirs.entry_price), (ours.exit_price, theirs.exit_price)]
        for mine, other in pairs:
            if (mine is None) != (other is None) or (
                mine is not None
                and other is not None
                and abs(float(mine) - float(other)) > PRICE_TOLERANCE * float(other)
            ):
                found.append(f"trade {n}: price {mine} vs {other}")
    equity = float(jts.final_equity)
    if abs(equity - expected.final_equity) > EQUITY_TOLERANCE * expected.final_equity:
        found.append(f"final equity {jts.final_equity} vs {expected.final_equity!r}")
    return found


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[ResearchResult, Expected]]:
    return {
        commission: (run_jts(commission), run_backtesting_py(float(commission)))
        for commission in ("0", "0.001")
    }


@pytest.mark.parametrize("commission", ["0", "0.001"])
def test_jts_makes_exactly_the_trades_and_equity_of_backtesting_py(
    runs: dict[str, tuple[ResearchResult, Expected]], commission: str
) -> None:
    jts, expected = runs[commission]
    assert differences(jts, expected) == []
    # Not a vacuous match: dozens of round trips, the last one still open at the end.
    assert len(jts.trades) == 33
    assert jts.trades[-1].exit_bar is None and jts.positions
    # JTS's own books agree with themselves exactly: the portfolio service, fed by the
    # fill events, ends at the ledger's cash plus the holding at the last close.
    assert jts.portfolio_equity == jts.final_equity


def test_the_rules_hold_in_the_jts_run(runs: dict[str, tuple[ResearchResult, Expected]]) -> None:
    jts, _ = runs["0.001"]
    bars = goog_bars()
    cash = Decimal(CASH)
    rate = Decimal("0.001")
    for fill in jts.fills:
        [bar] = [b for b in bars if b.close_ts == fill.ts]
        assert fill.price == bar.open  # a market order fills at the open of its bar
        assert fill.commission == fill.quantity * fill.price * rate
        if fill.side is Side.BUY:
            exact = cash / (fill.price * (1 + rate)) / UNIT
            assert fill.quantity == exact.to_integral_value(rounding="ROUND_FLOOR") * UNIT
            # Conditioning: the unit count is nowhere near a whole number, so backtesting.py's
            # float division (and its 1 - epsilon) cannot floor to another unit.
            fraction = exact - exact.to_integral_value(rounding="ROUND_FLOOR")
            assert min(fraction, 1 - fraction) > Decimal("1e-5")
        cash += fill.cash_delta
    assert cash == jts.cash


def test_the_crosses_are_well_conditioned() -> None:
    # Equal averages (or a float hair from equal) would let float and Decimal disagree on
    # a cross; the nearest approach is far above any rounding of the float averages.
    closes = [bar.close for bar in goog_bars()]
    fast = sma(closes, FAST)[SLOW - FAST :]
    slow = sma(closes, SLOW)
    nearest = min(abs(f - s) / c for f, s, c in zip(fast, slow, closes[SLOW - 1 :], strict=True))
    assert nearest > Decimal("1e-9")


def test_a_fill_one_bar_late_or_a_commission_left_out_would_be_caught(
    runs: dict[str, tuple[ResearchResult, Expected]],
) -> None:
    jts, expected = runs["0.001"]
    opens = [bar.open for bar in goog_bars()]
    late = [
        replace(t, entry_bar=t.entry_bar + 1, entry_price=opens[t.entry_bar + 1])
        for t in jts.trades
    ]
    found = differences(replace(jts, trades=late), expected)
    assert any("bars" in line for line in found)
    assert any("price" in line for line in found)
    # Without commission, JTS buys more and ends elsewhere than backtesting.py at 0.1%.
    free, _ = runs["0"]
    found = differences(free, expected)
    assert any("size" in line for line in found)
    assert any("final equity" in line for line in found)


def test_jts_backtest_run_account_research_on_the_goog_csv_makes_the_same_trades(
    runs: dict[str, tuple[ResearchResult, Expected]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The command line over the very CSV backtesting.py ships (",Open,High,..." with dates).
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "250")
    csv = tmp_path / "GOOG.csv"
    shutil.copyfile(Path(backtesting.__file__).parent / "test" / "GOOG.csv", csv)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main.app,
        [
            "backtest", "run", "--account", "research", "--csv", str(csv),
            "--strategy", "sma_cross", "--params", f"fast={FAST}", "--params", f"slow={SLOW}",
            "--params", "cross=adjacent", "--commission", "0.001", "--cash", str(CASH),
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "account research" in flat and "GOOG.csv: 2,148 bars of 1 symbols" in flat
    table = pq.read_table(out / "trades.parquet").to_pylist()
    fills = [
        Fill(
            fill_id=row["fill_id"],
            order_id=row["order_id"],
            client_order_id=row["order_id"],
            instrument_id=row["instrument_id"],
            side=Side(row["side"]),
            quantity=Decimal(row["quantity"]),
            price=Decimal(row["price"]),
            commission=Decimal(row["commission"]),
            tax=Decimal(row["tax"]),
            ts=dt_to_ns(row["ts"]),
            liquidity=LiquiditySide(row["liquidity"]),
        )
        for row in table
    ]
    assert {fill.instrument_id for fill in fills} == {INSTRUMENT.key}
    bar_of_ts = {bar.close_ts: i for i, bar in enumerate(goog_bars())}
    summary = json.loads((out / "summary.json").read_text())
    ours = ResearchResult(
        fills=fills,
        trades=round_trips(fills, bar_of_ts),
        cash=Decimal(0),
        positions={},
        final_equity=Decimal(summary["final_equity"]),
        portfolio_equity=Decimal(summary["final_equity"]),
    )
    jts, expected = runs["0.001"]
    assert differences(ours, expected) == []
    # The same code path as run_research: the very same fills, to the last unit.
    assert [(f.ts, f.side, f.quantity, f.price, f.commission) for f in fills] == [
        (f.ts, f.side, f.quantity, f.price, f.commission) for f in jts.fills
    ]
    assert len(ours.trades) == 33 and summary["fills"] == len(fills) == 65
    assert summary["account"] == "research" and summary["commission"] == decimal_text(
        sum((fill.commission for fill in fills), Decimal(0))
    )
    assert re.search(r"^fingerprint [0-9a-f]{64}$", result.output, re.MULTILINE)
