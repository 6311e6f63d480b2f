"""The real ``jts`` entry point, run as a user would: in a subprocess, on a fresh data dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def run_jts(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
    clean.update(JTS_DATA_DIR=str(tmp_path / "data"), COLUMNS="200", NO_COLOR="1", **env)
    return subprocess.run(
        [*jts_command(), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
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
