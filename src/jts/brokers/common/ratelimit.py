"""Rate budgets: sliding windows and per-second limits, shared by every process of an account.

A venue counts calls per app key or per login, not per process: the collector and
order execution both calling KIS with one key share one budget. A ``RateBudget``
keeps its window either in memory (one process) or in a small SQLite file that
every process on the host opens (``SqliteWindows``), locked per reservation, so
two processes can never both take the last slot. When the venue answers "too
many requests" anyway (its clock and ours differ), ``pause`` stops every user of
the budget for the venue's back-off.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from jts.domain.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``calls`` calls in any window of ``seconds`` seconds."""

    calls: int
    seconds: float

    def __post_init__(self) -> None:
        if self.calls < 1 or self.seconds <= 0:
            raise ConfigurationError(f"rate limit needs calls >= 1 and seconds > 0, got {self}")

    def __str__(self) -> str:
        return f"{self.calls}/{self.seconds:g}s"


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """What a budget has spent in each of its windows, and any venue-imposed pause."""

    key: str
    limits: tuple[RateLimit, ...]
    used: tuple[int, ...]
    paused_for: float

    def describe(self) -> str:
        windows = ", ".join(f"{u}/{lim}" for u, lim in zip(self.used, self.limits, strict=True))
        return windows + (f", paused {self.paused_for:.1f}s" if self.paused_for > 0 else "")


class WindowStore(Protocol):
    """Where call times live: ``reserve`` records a call (returns 0) or says how long to wait."""

    blocking: bool

    def reserve(self, key: str, limits: Sequence[RateLimit], clock: Callable[[], float]) -> float:
        """``clock`` is read once the store is locked, so a wait for the lock is not a gap."""
        ...

    def pause(self, key: str, until: float) -> None: ...

    def usage(
        self, key: str, limits: Sequence[RateLimit], now: float
    ) -> tuple[list[int], float]: ...


def _wait_for(times: Sequence[float], limits: Sequence[RateLimit], now: float) -> float:
    """Seconds until one more call fits every window; ``times`` ascending."""
    wait = 0.0
    for limit in limits:
        in_window = [t for t in times if t > now - limit.seconds]
        if len(in_window) >= limit.calls:
            # The call that frees a slot is the one `calls` places from the newest.
            oldest_blocking = in_window[len(in_window) - limit.calls]
            wait = max(wait, oldest_blocking + limit.seconds - now)
    return wait


class MemoryWindows:
    """Call times in this process only."""

    blocking = False

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}
        self._paused: dict[str, float] = {}

    def reserve(self, key: str, limits: Sequence[RateLimit], clock: Callable[[], float]) -> float:
        now = clock()
        pause = self._paused.get(key, 0.0) - now
        if pause > 0:
            return pause
        times = self._times.setdefault(key, deque())
        horizon = max(limit.seconds for limit in limits)
        while times and times[0] <= now - horizon:
            times.popleft()
        wait = _wait_for(times, limits, now)
        if wait <= 0:
            times.append(now)
        return wait

    def pause(self, key: str, until: float) -> None:
        self._paused[key] = max(self._paused.get(key, 0.0), until)

    def usage(self, key: str, limits: Sequence[RateLimit], now: float) -> tuple[list[int], float]:
        times = self._times.get(key, deque())
        used = [sum(1 for t in times if t > now - lim.seconds) for lim in limits]
        return used, max(0.0, self._paused.get(key, 0.0) - now)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (budget TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS calls_budget_ts ON calls (budget, ts);
CREATE TABLE IF NOT EXISTS pauses (budget TEXT PRIMARY KEY, until REAL NOT NULL);
"""


class SqliteWindows:
    """Call times in a SQLite file every process of the host shares.

    Each reservation is one ``BEGIN IMMEDIATE`` transaction (the file's write lock),
    so concurrent processes serialise on it. Wall-clock seconds are used because
    they mean the same in every process.
    """

    blocking = True

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        # One connection serves every budget of the process, from worker threads.
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def reserve(self, key: str, limits: Sequence[RateLimit], clock: Callable[[], float]) -> float:
        with self._lock:
            return self._reserve(key, limits, clock)

    def _reserve(self, key: str, limits: Sequence[RateLimit], clock: Callable[[], float]) -> float:
        horizon = max(limit.seconds for limit in limits)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            now = clock()  # after the lock: time spent waiting for another process counts
            row = db.execute("SELECT until FROM pauses WHERE budget = ?", (key,)).fetchone()
            if row is not None and row[0] > now:
                db.execute("COMMIT")
                return float(row[0]) - now
            db.execute("DELETE FROM calls WHERE budget = ? AND ts <= ?", (key, now - horizon))
            times = [
                float(r[0])
                for r in db.execute("SELECT ts FROM calls WHERE budget = ? ORDER BY ts", (key,))
            ]
            wait = _wait_for(times, limits, now)
            if wait <= 0:
                db.execute("INSERT INTO calls (budget, ts) VALUES (?, ?)", (key, now))
            db.execute("COMMIT")
            return wait
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def pause(self, key: str, until: float) -> None:
        with self._lock:
            self._pause(key, until)

    def _pause(self, key: str, until: float) -> None:
        self._db.execute(
            "INSERT INTO pauses (budget, until) VALUES (?, ?) "
            "ON CONFLICT (budget) DO UPDATE SET until = max(until, excluded.until)",
            (key, until),
        )

    def usage(self, key: str, limits: Sequence[RateLimit], now: float) -> tuple[list[int], float]:
        with self._lock:
            return self._usage(key, limits, now)

    def _usage(self, key: str, limits: Sequence[RateLimit], now: float) -> tuple[list[int], float]:
        used = [
            int(
                self._db.execute(
                    "SELECT count(*) FROM calls WHERE budget = ? AND ts > ?",
                    (key, now - lim.seconds),
                ).fetchone()[0]
            )
            for lim in limits
        ]
        row = self._db.execute("SELECT until FROM pauses WHERE budget = ?", (key,)).fetchone()
        return used, max(0.0, float(row[0]) - now) if row else 0.0


class RateBudget:
    """One account's call budget; ``acquire`` waits until a call fits every window.

    In-process callers queue in arrival order (one waiter reserves at a time), so a
    burst of requests is spread over the windows instead of retried in a herd.
    """

    def __init__(
        self,
        key: str,
        limits: Sequence[RateLimit],
        store: WindowStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not limits:
            raise ConfigurationError(f"rate budget {key}: at least one limit is needed")
        self.key = key
        self.limits = tuple(limits)
        self._store: WindowStore = store or MemoryWindows()
        self._clock = clock
        self._sleep = sleep
        self._queue = asyncio.Lock()
        self.waited = 0.0

    async def acquire(self) -> None:
        async with self._queue:
            while True:
                wait = await self._reserve()
                if wait <= 0:
                    return
                self.waited += wait
                await self._sleep(wait)

    async def _reserve(self) -> float:
        if self._store.blocking:
            return await asyncio.to_thread(self._store.reserve, self.key, self.limits, self._clock)
        return self._store.reserve(self.key, self.limits, self._clock)

    def pause(self, seconds: float) -> None:
        """The venue said "too many": nobody using this budget calls for ``seconds``."""
        self._store.pause(self.key, self._clock() + seconds)

    def usage(self) -> BudgetUsage:
        used, paused = self._store.usage(self.key, self.limits, self._clock())
        return BudgetUsage(self.key, self.limits, tuple(used), paused)
