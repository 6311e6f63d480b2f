"""``jts backtest`` end to end in process: trades derived by hand, fingerprints, inputs."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from backtest_data import CASH
from backtest_data import EQUITY
from backtest_data import FILLS
from backtest_data import FINAL_EQUITY
from backtest_data import PARAMS
from backtest_data import write_csv
from jts.app.backtest import BacktestReport
from jts.app.backtest import BacktestRequest
from jts.app.backtest import finish_backtest
from jts.app.backtest import list_runs
from jts.app.backtest import prepare_backtest
from jts.app.backtest_data import BarInput
from jts.app.settings import Settings
from jts.app.settings import load_settings
from jts.backtest.fingerprint import fingerprint
from jts.backtest.replay import BacktestResult
from jts.cli.data import import_bars
from jts.domain.errors import ConfigurationError
from jts.domain.timestamps import KST
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import ns_to_dt
from jts.storage.files import read_bar_file
from jts.storage.files import write_bar_parquet

D = Decimal


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def kst_minute(ts: int) -> str:
    return ns_to_dt(ts).astimezone(KST).strftime("%H:%M")


async def backtest(
    settings: Settings, bars: BarInput, **changes: object
) -> tuple[BacktestResult, BacktestReport]:
    request = BacktestRequest(strategy="sma_cross", params=PARAMS, bars=bars, cash=CASH)
    prepared = await prepare_backtest(settings, replace(request, **changes))  # type: ignore[arg-type]
    result = await prepared.run()
    return result, await finish_backtest(prepared, result)


def fill_rows(result: BacktestResult) -> list[tuple[object, ...]]:
    return [
        (f.instrument_id, f.side.value, f.quantity, f.price, f.commission, f.tax, kst_minute(f.ts))
        for f in result.fills
    ]


async def test_two_symbols_trade_as_derived_by_hand(settings: Settings, tmp_path: Path) -> None:
    csv = write_csv(tmp_path)
    result, report = await backtest(settings, BarInput("csv", csv))
    assert fill_rows(result) == FILLS
    assert [(kst_minute(ts), value) for ts, value in result.equity] == EQUITY
    metrics = result.metrics
    assert metrics.final_equity == FINAL_EQUITY
    assert metrics.total_return == D("-0.0002244200")  # -11,221 / 50,000,000
    assert metrics.max_drawdown == (D(32_228) / D(50_012_707)).quantize(D("1E-10"))
    assert metrics.sharpe is None  # one day: no daily returns to compare
    assert (metrics.trades, metrics.fills) == (3, 3)
    assert (metrics.commission, metrics.tax) == (D(4_470), D(19_851))
    assert (result.steps, kst_minute(result.start_ts), kst_minute(result.end_ts)) == (
        7,
        "09:00",
        "09:07",
    )
    assert result.fingerprint == fingerprint(result.fills, result.equity)

    # The report files: the trade list and the curve as Parquet, the chart, the fingerprint.
    trades = pq.read_table(report.trades_path).to_pylist()
    assert [(t["instrument_id"], t["side"], t["quantity"], t["price"]) for t in trades] == [
        (i, s, str(q), str(p)) for i, s, q, p, *_ in FILLS
    ]
    curve = pq.read_table(report.equity_path).to_pylist()
    assert [D(row["equity"]) for row in curve] == [value for _, value in EQUITY]
    assert report.chart_path is not None and "<svg" in report.chart_path.read_text()
    assert report.fingerprint_path.read_text() == result.fingerprint + "\n"
    assert report.trades_path.parent == settings.data_dir / "backtests" / report.run.run_id


async def test_no_fill_on_the_bar_that_produced_the_signal(
    settings: Settings, tmp_path: Path
) -> None:
    prepared = await prepare_backtest(
        settings,
        BacktestRequest("sma_cross", PARAMS, BarInput("csv", write_csv(tmp_path)), cash=CASH),
    )
    await prepared.run()
    orders = {o.order_id: o for o in await prepared.stores.orders.list()}
    fills = await prepared.stores.fills.list()
    assert len(orders) == 3 and len(fills) == 3
    for fill in fills:
        order = orders[fill.order_id]
        # Placed at the signal bar's close; filled at the close of a later bar, no sooner.
        assert fill.ts >= order.created_ts + NANOS_PER_MINUTE, (order, fill)
    # 005930's buy came from the 09:02 bar (open 69,900); it filled at 09:03's open.
    first = min(fills, key=lambda f: f.ts)
    assert (first.instrument_id, first.price, kst_minute(first.ts)) == (
        "KRX:005930",
        D(70_100),
        "09:04",
    )


async def test_the_fingerprint_is_stable_and_changes_with_the_fills(
    settings: Settings, tmp_path: Path
) -> None:
    csv = write_csv(tmp_path)
    first, _ = await backtest(settings, BarInput("csv", csv))
    again, _ = await backtest(settings, BarInput("csv", csv))
    assert again.fingerprint == first.fingerprint
    # Order ids derive from client order ids: equal runs store equal orders.
    assert [f.order_id for f in first.fills] == [f.order_id for f in again.fills]
    slipped, _ = await backtest(settings, BarInput("csv", csv), slippage="ticks:1")
    assert slipped.fingerprint != first.fingerprint
    # Limit orders slip up to their limit and no further: 70,100 -> 70,200 (the limit);
    # 119,600 and 69,900 are the limits already.
    assert [f.price for f in slipped.fills] == [D(70_200), D(119_600), D(69_900)]


async def test_market_orders_slip_by_ticks_and_basis_points_within_each_bar(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", execution={"order_type": "MARKET"})
    csv = write_csv(tmp_path)
    none, _ = await backtest(settings, BarInput("csv", csv))
    # Market orders fill at the next bar's open: 70,100, 119,700, 69,800.
    assert [f.price for f in none.fills] == [D(70_100), D(119_700), D(69_800)]
    ticks, _ = await backtest(settings, BarInput("csv", csv), slippage="ticks:1")
    assert [f.price for f in ticks.fills] == [D(70_200), D(119_800), D(69_700)]
    assert ticks.fills[0].commission == D(1_495)  # on the slipped price: 1,495.26 truncated
    bps, _ = await backtest(settings, BarInput("csv", csv), slippage="bps:20")
    # 70,100 x 1.002 = 70,240.2 -> 70,300 (the bar's high); 119,700 x 1.002 = 119,939.4 ->
    # 120,000, above the bar's high 119,800, so 119,800; 69,800 x 0.998 = 69,660.4 ->
    # 69,600, below the bar's low 69,700, so 69,700.
    assert [f.price for f in bps.fills] == [D(70_300), D(119_800), D(69_700)]


async def test_slippage_by_volume_share(settings: Settings, tmp_path: Path) -> None:
    csv = write_csv(tmp_path)
    thin, report = await backtest(settings, BarInput("csv", csv), slippage="volume:0.0001")
    # 0.01% of 1,000,000 shares a bar: 100 per bar, so the 142-share buy fills 100 then 42.
    assert [(f.instrument_id, f.quantity) for f in thin.fills][:3] == [
        ("KRX:005930", D(100)),
        ("KRX:000660", D(83)),
        ("KRX:005930", D(42)),
    ]
    assert report.run.slippage == "volume:0.0001"


async def test_csv_and_parquet_inputs_give_the_same_fingerprint(
    settings: Settings, tmp_path: Path
) -> None:
    csv = write_csv(tmp_path)
    parquet = tmp_path / "bars.parquet"
    write_bar_parquet(parquet, read_bar_file(csv, checks=_no_checks()).bars)
    from_csv, _ = await backtest(settings, BarInput("csv", csv))
    from_parquet, _ = await backtest(settings, BarInput("parquet", parquet))
    assert from_parquet.fingerprint == from_csv.fingerprint
    with pytest.raises(ConfigurationError, match="use --parquet"):
        await backtest(settings, BarInput("csv", parquet))


async def test_the_data_folders_store_as_input(settings: Settings, tmp_path: Path) -> None:
    csv = write_csv(tmp_path)
    with pytest.raises(ConfigurationError, match="no time-series store"):
        await backtest(settings, BarInput())
    assert await import_bars(settings, Console(file=io.StringIO()), csv, None) == 0
    from_csv, _ = await backtest(settings, BarInput("csv", csv))
    from_store, report = await backtest(settings, BarInput())
    assert from_store.fingerprint == from_csv.fingerprint
    assert report.run.symbols == ("KRX:000660", "KRX:005930")
    one, _ = await backtest(
        settings, BarInput(symbols=("KRX:005930",), start=date(2026, 11, 3), end=date(2026, 11, 3))
    )
    assert {f.instrument_id for f in one.fills} == {"KRX:005930"}
    with pytest.raises(ConfigurationError, match="no bars of KRX:035420"):
        await backtest(settings, BarInput(symbols=("KRX:035420",)))


async def test_runs_are_stored_and_listed_newest_first(settings: Settings, tmp_path: Path) -> None:
    csv = write_csv(tmp_path)
    assert await list_runs(settings) == []
    _, first = await backtest(settings, BarInput("csv", csv))
    _, second = await backtest(settings, BarInput("csv", csv), slippage="ticks:1")
    runs = await list_runs(settings)
    assert [r.run_id for r in runs] == [second.run.run_id, first.run.run_id]
    stored = runs[1]
    assert stored == first.run
    assert (stored.strategy, stored.params, stored.account) == (
        "sma_cross",
        {"fast": 1, "slow": 2, "timeframe": None, "cross": "through_ties"},
        "krx",
    )
    assert stored.fingerprint == first.result.fingerprint


async def test_unknown_account_and_bad_inputs_are_refused(
    settings: Settings, tmp_path: Path
) -> None:
    csv = write_csv(tmp_path)
    with pytest.raises(ConfigurationError, match="known accounts are krx"):
        await backtest(settings, BarInput("csv", csv), account="research-x")
    with pytest.raises(ConfigurationError, match="slippage"):
        await backtest(settings, BarInput("csv", csv), slippage="ticks:x")
    with pytest.raises(ConfigurationError, match="no valid bars"):
        await backtest(settings, BarInput("csv", csv, start=date(2026, 11, 4)))
    with pytest.raises(ConfigurationError, match="before --from"):
        await backtest(
            settings, BarInput("csv", csv, start=date(2026, 11, 4), end=date(2026, 11, 3))
        )


def _no_checks():  # type: ignore[no-untyped-def]
    from jts.core.bar_checks import BarChecks

    return BarChecks(None)
