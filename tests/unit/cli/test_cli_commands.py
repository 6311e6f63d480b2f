"""The real ``jts`` entry point, run as a user would: in a subprocess, on a fresh data dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jts.storage.sql.migrate import head_revision

HEADER = "timestamp,symbol,open,high,low,close,volume"
GOOD_ROWS = [
    "2026-03-03T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1200",
    "2026-03-03T09:01:00+09:00,KRX:005930,70000,70200,69900,70100,800",
    "2026-03-03T09:02:00+09:00,KRX:000660,180000,181000,179500,180500,300",
]
# (row, line number in the file, words of the reason)
BAD_ROWS = [
    ("yesterday,KRX:005930,70000,70200,69900,70100,800", "neither ISO-8601"),
    ("2026-03-03T09:03:00+09:00,KRX:005930,70000,69000,69900,70100,800", "inconsistent OHLC"),
    ("2026-03-03T09:04:00+09:00,KRX:005930,70000,70200,69900,70100,", "missing value for volume"),
    ("2026-03-03T09:05:00+09:00,[/bad],70000,70200,69900,70100,800", "'[/bad]' is not of the"),
    ("2026-03-03T09:06:30+09:00,KRX:005930,70000,70200,69900,70100,800", "minute boundary"),
]


def jts_command() -> list[str]:
    """The installed console script next to this interpreter (what users run)."""
    script = Path(sys.executable).parent / "jts"
    found = str(script) if script.is_file() else shutil.which("jts")
    assert found is not None, "the jts console script is not installed"
    return [found]


def run_jts(
    tmp_path: Path, *args: str, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
    clean.update(JTS_DATA_DIR=str(tmp_path / "data"), COLUMNS="200", NO_COLOR="1", **env)
    return subprocess.run(
        [*jts_command(), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        input=input,
        text=True,
        timeout=300,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return " ".join(result.stderr.split())  # rich wraps long messages


def test_db_upgrade_then_current_shows_head(tmp_path: Path) -> None:
    head = head_revision()
    assert "empty database" in ok(run_jts(tmp_path, "db", "current"))
    assert head in ok(run_jts(tmp_path, "db", "upgrade"))
    assert ok(run_jts(tmp_path, "db", "current")).strip() == head
    assert (tmp_path / "data" / "jts.db").is_file()


def test_data_import_reports_bad_rows_and_keeps_the_good_ones(tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    lines = [HEADER, GOOD_ROWS[0], *(row for row, _ in BAD_ROWS), *GOOD_ROWS[1:]]
    csv.write_text("\n".join(lines) + "\n")

    out = ok(run_jts(tmp_path, "data", "import", str(csv)))
    assert "5 rejected rows" in out
    for line_number, (_, reason) in enumerate(BAD_ROWS, start=3):
        row = next(text for text in out.splitlines() if reason in text)
        assert f" {line_number} " in row, (line_number, row)
    assert "read 8 rows" in out
    assert "imported 3 bars, 0 already stored, 5 rejected" in out

    again = ok(run_jts(tmp_path, "data", "import", str(csv)))
    assert "imported 0 bars, 3 already stored, 5 rejected" in again


def test_orders_list_on_an_empty_database(tmp_path: Path) -> None:
    message = refused(run_jts(tmp_path, "orders", "list"))
    assert "no database yet" in message and "jts db upgrade" in message
    assert not (tmp_path / "data").exists()

    ok(run_jts(tmp_path, "db", "upgrade"))
    assert "0 orders" in ok(run_jts(tmp_path, "orders", "list"))
    assert "--status must be one of" in refused(
        run_jts(tmp_path, "orders", "list", "--status", "DONE")
    )


@pytest.mark.parametrize("command", [("db", "current"), ("orders", "list"), ("demo",)])
def test_a_bad_setting_exits_2_naming_it(tmp_path: Path, command: tuple[str, ...]) -> None:
    message = refused(run_jts(tmp_path, *command, JTS_PAPER__STARTING_CASH="abc"))
    assert "paper.starting_cash" in message
    assert "JTS_PAPER__STARTING_CASH" in message
    assert not (tmp_path / "data").exists()  # refused before touching anything


def test_an_unknown_variable_exits_2_naming_it(tmp_path: Path) -> None:
    message = refused(run_jts(tmp_path, "db", "current", JTS_STARTING_CASH="1"))
    assert "unknown setting JTS_STARTING_CASH" in message


def test_a_halted_account_is_shown_and_resumed_only_with_a_reason(tmp_path: Path) -> None:
    import asyncio

    from jts.storage.halts import FileHaltStore

    store = FileHaltStore(tmp_path / "data")
    reason = "foreign_order: an open BUY of 55 at the venue that this platform did not place"
    asyncio.run(store.halt("paper", reason, 1_790_000_000_000_000_000))
    shown = ok(run_jts(tmp_path, "orders", "halts"))
    assert "paper" in shown and "open BUY of 55" in shown

    assert run_jts(tmp_path, "orders", "resume", "paper").returncode != 0  # --reason is required
    resumed = run_jts(tmp_path, "orders", "resume", "paper", "--reason", "cancelled it by hand")
    assert "resumed" in ok(resumed)
    assert "no account is halted" in ok(run_jts(tmp_path, "orders", "halts"))
    assert "not halted" in refused(run_jts(tmp_path, "orders", "resume", "paper", "--reason", "x"))
    assert "cancelled it by hand" in store.log_path.read_text()


def test_data_import_refuses_unusable_rows_and_keeps_the_good(tmp_path: Path) -> None:
    unusable = [
        "2026-03-03T09:03:00+09:00,KRX:005930,70000,70100,69900,70000,10.5",
        "2026-03-03T09:04:00+09:00,KRX:005930,70000,70100,69900,70000,1e30",
        "0001-01-01T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1",
        "2026-03-07T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1",
        '2026-03-03T09:05:00+09:00,"KRX:00""5930",70000,70100,69900,70000,1',
        "2099-03-03T09:00:00+09:00,KRX:005930,70000,70100,69900,70000,1",
    ]
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join([HEADER, *unusable, *GOOD_ROWS]) + "\n")
    out = ok(run_jts(tmp_path, "data", "import", str(csv)))
    assert "6 rejected rows" in out
    for line_number, reason in enumerate(
        ["not a whole number", "1E+30 is above", "outside the years", "Sat", "KRX code", "later"],
        start=2,
    ):
        row = next(text for text in out.splitlines() if reason in text)
        assert f" {line_number} " in row, (line_number, row)
    assert "imported 3 bars, 0 already stored, 6 rejected" in out
    assert "import" in out and "MB" in out  # the progress bar


def test_data_import_exits_1_when_every_row_is_rejected(tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text(HEADER + "\n2026-03-07T09:00:00+09:00,KRX:005930,1,1,1,1,1\n")
    result = run_jts(tmp_path, "data", "import", str(csv))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "every row was rejected" in result.stdout
    assert "Traceback" not in result.stderr


def test_data_check_lists_bad_stored_bars_and_deletes_them(tmp_path: Path) -> None:
    # Bars an older import stored: written straight into the store, past the checks.
    script = textwrap.dedent(
        """
        import asyncio, sys
        from decimal import Decimal as D
        from pathlib import Path
        from jts.domain.market import Bar, Timeframe
        from jts.storage.clickhouse.store import ClickHouseBarStore

        async def main():
            store = await ClickHouseBarStore.open(None, Path(sys.argv[1]))
            good = 1772496000000000000  # 2026-03-03 09:00 KST
            one = (D(1),) * 4
            bars = [
                Bar("KRX:005930", Timeframe.M1, good, D(70000), D(70100), D(69900), D(70000), D(5)),
                Bar("KRX:005930", Timeframe.M1, -62135596800000000000, *one, D(1)),
                Bar("KRX:005930", Timeframe.M1, good + 60 * 10**9, D(1), D("1e400"), *one[:3]),
                Bar('KRX:00"5930', Timeframe.M1, good, *one, D(1)),
            ]
            await store.write_bars(bars)
            await store.close()

        asyncio.run(main())
        """
    )
    data_dir = tmp_path / "data"
    subprocess.run([sys.executable, "-c", script, str(data_dir)], check=True, timeout=120)

    found = run_jts(tmp_path, "data", "check")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "3 bad bars" in found.stdout
    assert "0001-01-01T00:00:00+00:00" in found.stdout and "Infinity" in found.stdout
    assert 'KRX:00"5930' in found.stdout
    assert "checked 4 bars of 2 instruments" in found.stdout

    refused_delete = run_jts(tmp_path, "data", "check", "--delete", input="n\n")
    assert refused_delete.returncode == 1 and "nothing deleted" in refused_delete.stdout
    deleted = ok(run_jts(tmp_path, "data", "check", "--delete", "--yes"))
    assert "deleted 3 bad bars" in deleted
    assert "0 bad" in ok(run_jts(tmp_path, "data", "check"))

    gone = ok(run_jts(tmp_path, "data", "delete", "--symbol", "005930", "--yes"))
    assert "deleted 1 bars of KRX:005930" in gone
    assert "checked 0 bars" in ok(run_jts(tmp_path, "data", "check"))


def test_data_delete_asks_and_takes_a_time_range(tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("\n".join([HEADER, *GOOD_ROWS]) + "\n")
    ok(run_jts(tmp_path, "data", "import", str(csv)))
    args = ("data", "delete", "--symbol", "KRX:005930", "--start", "2026-03-03T09:01:00+09:00")
    declined = run_jts(tmp_path, *args, input="n\n")
    assert declined.returncode == 1, declined.stdout + declined.stderr
    assert "Delete 1 bars of KRX:005930" in declined.stdout
    assert "deleted 1 bars" in ok(run_jts(tmp_path, *args, input="y\n"))
    assert "nothing deleted" in ok(run_jts(tmp_path, *args))
    bad_time = refused(run_jts(tmp_path, "data", "delete", "--symbol", "KRX:005930", "--end", "x"))
    assert "--end 'x'" in bad_time
