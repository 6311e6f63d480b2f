"""Peak memory and time of ``jts data import`` on a ~50 MB CSV of one-minute bars.

The file holds valid KRX session minutes of synthetic stocks (``KRX:900000`` on), a
random walk on whole won, so every row is imported. ``jts data import`` runs as a user
runs it, in a subprocess with a fresh data directory, and its peak RSS is the kernel's
(``os.wait4`` -> ``ru_maxrss``). Run it against another checkout's sources (the code
before a change) with ``--pythonpath OTHER/src``.

Run alone: ``.venv/bin/python benchmarks/bench_import.py [--megabytes 50] [--pythonpath DIR]``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from jts.brokers.common.calendars import exchange_calendar
from jts.domain.timestamps import NANOS_PER_MINUTE
from jts.domain.timestamps import ns_to_dt

MEGABYTES = 50
SYMBOLS = 20
FIRST_SESSION = date(2025, 1, 2)


@dataclass(frozen=True, slots=True)
class ImportRun:
    megabytes: float
    rows: int
    peak_rss_mib: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_mb": round(self.megabytes, 1),
            "rows": self.rows,
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "seconds": round(self.seconds, 1),
        }


def write_csv(path: Path, megabytes: float, symbols: int = SYMBOLS, seed: int = 1) -> int:
    """Valid minute bars, session by session, until the file reaches ``megabytes``."""
    calendar = exchange_calendar("XKRX")
    rng = random.Random(seed)
    closes = {f"KRX:{900_000 + n}": 50_000 for n in range(symbols)}
    limit = megabytes * 1_000_000
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,symbol,open,high,low,close,volume\n")
        for session in calendar.sessions(FIRST_SESSION, date(2027, 1, 1)):
            opened, closed = calendar.session_bounds(session)
            for ts in range(opened, closed, NANOS_PER_MINUTE):
                stamp = ns_to_dt(ts).isoformat()
                for symbol, last in closes.items():
                    close = max(1_000, last + rng.randint(-100, 100))
                    high, low = max(last, close) + 50, min(last, close) - 50
                    out.write(
                        f"{stamp},{symbol},{last},{high},{low},{close},{rng.randint(0, 5000)}\n"
                    )
                    closes[symbol] = close
                    rows += 1
            if out.tell() >= limit:
                return rows
    return rows


def measure(console: Console, megabytes: float, pythonpath: str | None) -> ImportRun:
    jts = Path(sys.executable).with_name("jts")
    with tempfile.TemporaryDirectory(prefix="jts-bench-import-") as folder:
        csv = Path(folder) / "bars.csv"
        with console.status(f"writing a {megabytes:g} MB CSV"):
            rows = write_csv(csv, megabytes)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
        env |= {"JTS_DATA_DIR": str(Path(folder) / "data"), "COLUMNS": "100"}
        if pythonpath is not None:
            env["PYTHONPATH"] = pythonpath
        with console.status(f"jts data import of {rows:,} rows in a subprocess"):
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(jts), "data", "import", str(csv)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
        output = (proc.stdout.read() if proc.stdout else b"").decode()
        errors = (proc.stderr.read() if proc.stderr else b"").decode()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"jts data import exited with {code}: {errors or output}")
        if f"imported {rows:,} bars" not in output:
            raise RuntimeError(f"jts data import did not import every row: {output}")
        return ImportRun(csv.stat().st_size / 1e6, rows, usage.ru_maxrss / 1024, seconds)


def render(run: ImportRun, label: str) -> Table:
    table = Table(title=f"jts data import ({label})", title_justify="left")
    for column in ("file MB", "rows", "peak RSS MiB", "seconds", "rows/s"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{run.megabytes:,.1f}",
        f"{run.rows:,}",
        f"{run.peak_rss_mib:,.0f}",
        f"{run.seconds:,.1f}",
        f"{run.rows / run.seconds:,.0f}",
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=MEGABYTES)
    parser.add_argument("--pythonpath", help="run jts from these sources (e.g. an older checkout)")
    args = parser.parse_args()
    console = Console()
    run = measure(console, args.megabytes, args.pythonpath)
    console.print(render(run, args.pythonpath or "this checkout"))
    console.print(run.as_dict())


if __name__ == "__main__":
    main()
