"""``jts backtest run`` and ``list`` as a user types them."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backtest_data import write_csv
from jts.cli import main
from jts.cli.backtest import parse_params
from jts.cli.backtest import parse_symbols
from jts.domain.errors import ConfigurationError


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("JTS_") and not name.startswith("JTS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("JTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def jts(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main.app, list(args))
    return result.exit_code, result.output


def test_params_are_json_or_name_value_and_symbols_are_canonical() -> None:
    assert parse_params(['{"fast": 3, "slow": 9}', "timeframe=1m", "slow=10"]) == {
        "fast": 3,
        "slow": 10,
        "timeframe": "1m",
    }
    for bad in ("fast", "=3", "{fast: 3}", "[1]"):
        with pytest.raises(ConfigurationError, match="--params"):
            parse_params([bad])
    assert parse_symbols(["005930,KRX:000660", "krx:005930"]) == ("KRX:005930", "KRX:000660")


def test_a_run_prints_its_report_and_list_shows_it(data_dir: Path, tmp_path: Path) -> None:
    assert jts("backtest", "list") == (
        0,
        "no backtest runs stored yet (run one with `jts backtest run`)\n",
    )
    csv = write_csv(tmp_path)
    code, out = jts(
        "backtest", "run", "--strategy", "sma_cross", "--params", "fast=1", "--params", "slow=2",
        "--csv", str(csv), "--cash", "50,000,000", "--symbols", "005930,000660",
    )  # fmt: skip
    assert code == 0, out
    assert "minutes 7/7  bars 14  signals 3  orders 3  fills 3" in out
    found = re.search(r"^fingerprint ([0-9a-f]{64})$", out, re.MULTILINE)
    assert found, out
    flat = " ".join(out.split())
    assert "final equity 49,988,779" in flat
    assert "trades / fills 3 / 3" in flat and "commission 4,470" in flat and "tax 19,851" in flat
    assert "2026-11-03 09:06 │ KRX:005930 │ SELL │ 142 │ 69,900 │ 1,488 │ 19,851" in flat
    run_dir = next((data_dir / "backtests").iterdir())
    assert (run_dir / "fingerprint.txt").read_text().strip() == found.group(1)
    assert {p.name for p in run_dir.iterdir()} == {
        "trades.parquet", "signals.parquet", "orders.parquet", "equity.parquet", "equity.svg",
        "fingerprint.txt", "summary.json",
    }  # fmt: skip

    code, listed = jts("backtest", "list")
    assert code == 0, listed
    row = next(line for line in listed.splitlines() if run_dir.name[:8] in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells[2:] == [
        "sma_cross",
        '{"cross": "through_ties", "fast": 1, "slow": 2, "timeframe": null}',
        "KRX:000660, KRX:005930",
        "2026-11-03 09:00 .. 2026-11-03 09:07 KST",
        "-0.02%",
        "0.06%",
        "-",
        "3",
        found.group(1)[:16],
    ]


def test_bad_options_are_one_clear_error(data_dir: Path, tmp_path: Path) -> None:
    csv = write_csv(tmp_path)
    cases = [
        (["--csv", str(csv), "--parquet", str(csv)], "give --csv or --parquet, not both"),
        (["--csv", str(csv), "--account", "nasdaq"], "known accounts are krx, research"),
        (["--csv", str(csv), "--commission", "1.5"], "--commission 1.5: a fraction in [0, 1)"),
        (["--csv", str(csv), "--commission", "0.1%"], "--commission '0.1%': not a number"),
        (["--csv", str(csv), "--slippage", "pct:1"], "slippage 'pct:1'"),
        (["--csv", str(csv), "--from", "3 Nov"], "--from '3 Nov': write a date"),
        (["--csv", str(csv), "--strategy", "nope"], "unknown strategy 'nope'"),
        (["--csv", str(csv), "--params", "fast=30"], "fast (30) must be smaller than slow (20)"),
        (["--cash", "0", "--csv", str(csv)], "starting cash must be positive"),
        ([], "no time-series store in"),
    ]
    for args, message in cases:
        code, out = jts("backtest", "run", *args)
        assert code == 2, (args, out)
        assert message in " ".join(out.split()), (args, out)


DAILY = """\
Date,Open,High,Low,Close,Volume
2004-08-19,10,10,10,10,1000
2004-08-20,9,9,9,9,1000
2004-08-23,10,11,10,11,1000
2004-08-24,10.5,11.5,10.5,11.5,1000
2004-08-25,11,11,9,9,1000
2004-08-26,9.5,9.5,9,9,1000
"""


def test_the_research_account_trades_a_daily_csv_in_fractions(
    data_dir: Path, tmp_path: Path
) -> None:
    # fast=1/slow=2: BUY at 08-23's close (a rise), filled at 08-24's open 10.5 with all the
    # cash: 1000 / (10.5 x 1.001) = 95.14295228 (floored to 1e-8); SELL at 08-25's close (a
    # fall), filled at 08-26's open 9.5. Commission 0.1% of each notional, no tax.
    csv = tmp_path / "goog.csv"
    csv.write_text(DAILY, encoding="utf-8")
    code, out = jts(
        "backtest", "run", "--account", "research", "--csv", str(csv), "--symbols", "GOOG",
        "--params", "fast=1", "--params", "slow=2", "--params", "cross=adjacent",
        "--commission", "0.001", "--cash", "1000",
    )  # fmt: skip
    assert code == 0, out
    flat = " ".join(out.split())
    quantity = Decimal("95.14295228")
    bought = quantity * Decimal("10.5")
    sold = quantity * Decimal("9.5")
    final = Decimal(1000) - bought * Decimal("1.001") + sold * Decimal("0.999")
    assert "account research" in flat
    assert "market time 2004-08-19 00:00 .. 2004-08-27 00:00 UTC" in flat
    assert f"final equity {final:,.2f}" in flat
    assert "2004-08-25 00:00 │ RESEARCH:GOOG │ BUY │ 95.14295228 │ 10.5 │ 1.00" in flat
    assert "2004-08-27 00:00 │ RESEARCH:GOOG │ SELL │ 95.14295228 │ 9.5 │ 0.90 │ 0.00" in flat
    summary = json.loads(next((data_dir / "backtests").glob("*/summary.json")).read_text())
    assert Decimal(summary["final_equity"]) == final
    assert Decimal(summary["commission"]) == (bought + sold) * Decimal("0.001")
    assert (summary["account"], summary["symbols"], summary["tax"]) == (
        "research",
        ["RESEARCH:GOOG"],
        "0",
    )
    # The list shows a research run in the time zone its report used, not KRX's.
    code, listed = jts("backtest", "list")
    assert code == 0, listed
    assert "2004-08-19 00:00 .. 2004-08-27 00:00 UTC" in " ".join(listed.split()), listed


def test_help_shows_the_defaults_in_brackets(data_dir: Path) -> None:
    # Rich reads "[default: ...]" as markup and drops it unless the bracket is escaped.
    code, out = jts("backtest", "run", "--help")
    assert code == 0, out
    flat = " ".join(out.replace("│", " ").split())
    assert "[default: paper.starting_cash; research: 10,000]" in flat
    assert "[default: the account's; research: 0]" in flat
