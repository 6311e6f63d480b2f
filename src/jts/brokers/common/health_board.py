"""Account health every process can read: the breakers' state, written on each change.

Lives in the same SQLite file as the shared rate budgets, so ``jts brokers
pool`` run from a shell shows what the collector and order execution see.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from jts.brokers.common.breaker import BreakerState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS health (
    name TEXT PRIMARY KEY, state TEXT NOT NULL, since REAL NOT NULL, last_error TEXT
);
"""


@dataclass(frozen=True, slots=True)
class HealthRow:
    name: str
    state: BreakerState
    since: float
    last_error: str | None


class HealthBoard:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def record(self, name: str, state: BreakerState, last_error: str | None) -> None:
        """Breaker listener: ``breaker.subscribe(board.record)``."""
        with self._lock:
            self._db.execute(
                "INSERT INTO health (name, state, since, last_error) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state, "
                "since = excluded.since, last_error = excluded.last_error",
                (name, state.value, time.time(), last_error),
            )

    def read(self) -> dict[str, HealthRow]:
        with self._lock:
            rows = self._db.execute("SELECT name, state, since, last_error FROM health").fetchall()
        return {r[0]: HealthRow(r[0], BreakerState(r[1]), float(r[2]), r[3]) for r in rows}
