"""``kill -9`` of ``jts run`` at random points: market time never moves back, the books balance.

Each round starts ``jts run`` flat out on one data folder, kills it with SIGKILL
after a random delay (during start-up, mid-session, mid-flush: wherever it lands;
every other round a random moment after it stored a fill of its own), then reads
the SQLite store directly and checks that nothing the new run placed or filled lies
at or before a market time an earlier run had already recorded, and that the stored
fills never leave a position short. A clean run at the end
must start, trade a session, balance its books three ways and leave `jts doctor`
nothing to report.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.acceptance

KILLS = 20
# The whole loop must finish inside this, whatever the machine's load.
DEADLINE_S = 420.0
# How long a round may wait for its run to trade before it is killed all the same.
TRADING_WAIT_S = 30.0
JTS = Path(sys.executable).parent / "jts"


@dataclass(frozen=True, slots=True)
class Books:
    orders: dict[str, int]  # order id -> created market time
    fills: dict[str, tuple[int, str, str, Decimal]]  # fill id -> (ts, symbol, side, qty)

    @property
    def latest(self) -> int:
        return max([0, *self.orders.values(), *(f[0] for f in self.fills.values())])


def read_books(db: Path) -> Books:
    if not db.exists():
        return Books({}, {})
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "fills" not in tables:
            return Books({}, {})
        orders = dict(connection.execute("SELECT id, created_ts FROM orders"))
        fills = {
            row[0]: (row[1], row[2], row[3], Decimal(str(row[4])))
            for row in connection.execute("SELECT fill_id, ts, symbol, side, quantity FROM fills")
        }
    finally:
        connection.close()
    return Books(orders, fills)


def assert_never_short(books: Books) -> None:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for fill_id, (_, symbol, side, qty) in sorted(books.fills.items(), key=lambda f: f[1][0]):
        held[symbol] += qty if side == "BUY" else -qty
        assert held[symbol] >= 0, f"fill {fill_id} leaves {symbol} short ({held[symbol]})"


def wait_for_trading(process: subprocess.Popen[str], db: Path, fills_before: int) -> None:
    """Until the run has stored a fill of its own (bounded: it may also just be slow)."""
    deadline = time.monotonic() + TRADING_WAIT_S
    while time.monotonic() < deadline and process.poll() is None:
        if len(read_books(db).fills) > fills_before:
            return
        time.sleep(0.1)


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
    env.update(JTS_DATA_DIR=str(tmp_path / "data"), COLUMNS="160", NO_COLOR="1")
    return env


def jts(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(JTS), *args]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_sigkill_of_jts_run_never_trades_a_market_minute_twice(tmp_path: Path) -> None:
    env = environment(tmp_path)
    db = tmp_path / "data" / "jts.db"
    rng = random.Random(20261201)
    started = time.monotonic()
    kills = 0
    while kills < KILLS:
        assert time.monotonic() - started < DEADLINE_S, f"only {kills} kills in {DEADLINE_S}s"
        before = read_books(db)
        process = subprocess.Popen(
            [str(JTS), "run", "--speed", "0"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if kills % 2:
            # Start-up alone takes seconds on a loaded machine: every other round lands
            # mid-trading for sure, killed at a random moment after its first new fill.
            wait_for_trading(process, db, len(before.fills))
            time.sleep(rng.uniform(0.0, 1.5))
        else:
            time.sleep(rng.uniform(1.5, 6.0))
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        assert still_running, f"jts run ended by itself before the kill:\n{stderr[-3000:]}"
        kills += 1

        after = read_books(db)
        assert set(before.orders) <= set(after.orders)
        new_orders = {k: v for k, v in after.orders.items() if k not in before.orders}
        new_fills = {k: v for k, v in after.fills.items() if k not in before.fills}
        replayed = [k for k, ts in new_orders.items() if ts <= before.latest]
        assert not replayed, f"round {kills}: {len(replayed)} orders at market time already traded"
        refilled = [k for k, f in new_fills.items() if f[0] <= before.latest]
        assert not refilled, f"round {kills}: {len(refilled)} fills at market time already traded"
        assert_never_short(after)

    assert read_books(db).fills, "twenty rounds of trading and not one fill"
    last = read_books(db)
    final = jts(tmp_path, env, "run", "--speed", "0", "--sessions", "1")
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    assert "balanced" in final.stdout and "DO NOT BALANCE" not in final.stdout, final.stdout
    done = read_books(db)
    assert (
        min([ts for k, ts in done.orders.items() if k not in last.orders] or [last.latest + 1])
        > last.latest
    )
    assert_never_short(done)
    doctor = jts(tmp_path, env, "doctor")
    assert doctor.returncode == 0, doctor.stdout[-3000:] + doctor.stderr[-3000:]
