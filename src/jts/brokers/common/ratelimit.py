"""Rate budgets: sliding windows and per-second limits, shared by every process of an account.

A venue counts calls per app key or per login, not per process: the collector and
order execution both calling KIS with one key share one budget. A ``RateBudget``
keeps its window either in memory (one process) or in a small SQLite file that
every process on the host opens (``SqliteWindows``), locked per reservation, so
two processes can never both take the last slot. When the venue answers "too
many requests" anyway (its clock and ours differ), ``pause`` stops every user of
the budget for the venue's back-off, and a budget with a ``Backoff`` also lowers
its rate (``slow_down``): the venue's real limit may be below the configured one
(a paper server, a key shared with a program we do not know of). The lowered
rate lives in the same store, so every process sharing the file slows down, and
it climbs back step by step after clean answers (additive increase,
multiplicative decrease).
"""

from __future__ import annotations

import asyncio
import logging
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

log = logging.getLogger("jts.brokers.ratelimit")


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


@dataclass(frozen=True, slots=True)
class Backoff:
    """How a budget's rate falls on a venue's "too many" and climbs back.

    The rate is the configured one times a factor in [``floor``, 1]: each refusal
    multiplies it by ``decrease`` (one cut per ``cut_interval`` seconds, so one
    burst of refusals is one cut), every ``clean_calls`` clean answers add ``step``.
    """

    decrease: float = 0.5
    floor: float = 0.1
    step: float = 0.1
    clean_calls: int = 20
    cut_interval: float = 1.0

    def __post_init__(self) -> None:
        if not (0 < self.decrease < 1 and 0 < self.floor <= 1 and self.step > 0):
            raise ConfigurationError(f"back-off needs 0<decrease<1, 0<floor<=1, step>0: {self}")
        if self.clean_calls < 1 or self.cut_interval < 0:
            raise ConfigurationError(f"back-off needs clean_calls >= 1: {self}")

    def cut(self, factor: float) -> float:
        return max(self.floor, factor * self.decrease)

    def recover(self, factor: float, clean: int) -> tuple[float, int]:
        """(factor, clean answers not yet spent on a step) after ``clean`` clean answers."""
        while clean >= self.clean_calls and factor < 1.0:
            factor = min(1.0, factor + self.step)
            clean -= self.clean_calls
        return factor, (0 if factor >= 1.0 else clean)


def scaled(limits: Sequence[RateLimit], factor: float) -> tuple[RateLimit, ...]:
    """``limits`` at ``factor`` of their calls (never below one call per window)."""
    if factor >= 1.0:
        return tuple(limits)
    return tuple(RateLimit(max(1, int(lim.calls * factor)), lim.seconds) for lim in limits)


@dataclass
class _Rate:
    factor: float = 1.0
    clean: int = 0
    cut_at: float = float("-inf")


class WindowStore(Protocol):
    """Where call times live: ``reserve`` records a call (returns 0) or says how long to wait."""

    blocking: bool

    def reserve(
        self,
        key: str,
        limits: Sequence[RateLimit],
        clock: Callable[[], float],
        backoff: Backoff | None = None,
        clean: int = 0,
    ) -> float:
        """``clock`` is read once the store is locked, so a wait for the lock is not a gap.

        With ``backoff``, ``clean`` answers seen since the last reservation are counted
        first and ``limits`` are scaled by the budget's current factor.
        """
        ...

    def pause(self, key: str, until: float) -> None: ...

    def slow_down(self, key: str, backoff: Backoff, now: float) -> float:
        """Cut the rate factor (at most once per ``cut_interval``); the new factor."""
        ...

    def rate_factor(self, key: str) -> float: ...

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
        self._rates: dict[str, _Rate] = {}

    def reserve(
        self,
        key: str,
        limits: Sequence[RateLimit],
        clock: Callable[[], float],
        backoff: Backoff | None = None,
        clean: int = 0,
    ) -> float:
        now = clock()
        if backoff is not None:
            rate = self._rates.setdefault(key, _Rate())
            rate.factor, rate.clean = backoff.recover(rate.factor, rate.clean + clean)
            limits = scaled(limits, rate.factor)
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

    def slow_down(self, key: str, backoff: Backoff, now: float) -> float:
        rate = self._rates.setdefault(key, _Rate())
        if now - rate.cut_at >= backoff.cut_interval:
            rate.factor, rate.clean, rate.cut_at = backoff.cut(rate.factor), 0, now
        return rate.factor

    def rate_factor(self, key: str) -> float:
        return self._rates.get(key, _Rate()).factor

    def usage(self, key: str, limits: Sequence[RateLimit], now: float) -> tuple[list[int], float]:
        times = self._times.get(key, deque())
        used = [sum(1 for t in times if t > now - lim.seconds) for lim in limits]
        return used, max(0.0, self._paused.get(key, 0.0) - now)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (budget TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS calls_budget_ts ON calls (budget, ts);
CREATE TABLE IF NOT EXISTS pauses (budget TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rates (
    budget TEXT PRIMARY KEY, factor REAL NOT NULL, clean INTEGER NOT NULL, cut_at REAL NOT NULL
);
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

    def reserve(
        self,
        key: str,
        limits: Sequence[RateLimit],
        clock: Callable[[], float],
        backoff: Backoff | None = None,
        clean: int = 0,
    ) -> float:
        with self._lock:
            return self._reserve(key, limits, clock, backoff, clean)

    def _reserve(
        self,
        key: str,
        limits: Sequence[RateLimit],
        clock: Callable[[], float],
        backoff: Backoff | None,
        clean: int,
    ) -> float:
        horizon = max(limit.seconds for limit in limits)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            now = clock()  # after the lock: time spent waiting for another process counts
            if backoff is not None:
                limits = scaled(limits, self._recover(key, backoff, clean))
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

    def _read_rate(self, key: str) -> _Rate:
        row = self._db.execute(
            "SELECT factor, clean, cut_at FROM rates WHERE budget = ?", (key,)
        ).fetchone()
        return _Rate(float(row[0]), int(row[1]), float(row[2])) if row else _Rate()

    def _write_rate(self, key: str, rate: _Rate) -> None:
        self._db.execute(
            "INSERT INTO rates (budget, factor, clean, cut_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (budget) DO UPDATE SET factor = excluded.factor, "
            "clean = excluded.clean, cut_at = excluded.cut_at",
            (key, rate.factor, rate.clean, max(rate.cut_at, -1e18)),
        )

    def _recover(self, key: str, backoff: Backoff, clean: int) -> float:
        """Inside the reservation's transaction: count clean answers, return the factor."""
        rate = self._read_rate(key)
        if rate.factor >= 1.0:
            return 1.0  # nothing to recover (and no write on the common path)
        factor, left = backoff.recover(rate.factor, rate.clean + clean)
        if (factor, left) != (rate.factor, rate.clean):
            self._write_rate(key, _Rate(factor, left, rate.cut_at))
        return factor

    def slow_down(self, key: str, backoff: Backoff, now: float) -> float:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                rate = self._read_rate(key)
                if now - rate.cut_at >= backoff.cut_interval:
                    rate = _Rate(backoff.cut(rate.factor), 0, now)
                    self._write_rate(key, rate)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return rate.factor

    def rate_factor(self, key: str) -> float:
        with self._lock:
            return self._read_rate(key).factor

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
    burst of requests is spread over the windows instead of retried in a herd. With
    ``backoff``, the venue's "too many" (``slow_down``) lowers the rate for every user
    of the store and clean answers (``answered``) bring it back.
    """

    def __init__(
        self,
        key: str,
        limits: Sequence[RateLimit],
        store: WindowStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        if not limits:
            raise ConfigurationError(f"rate budget {key}: at least one limit is needed")
        self.key = key
        self.limits = tuple(limits)
        self._store: WindowStore = store or MemoryWindows()
        self._clock = clock
        self._sleep = sleep
        self._queue = asyncio.Lock()
        self.backoff = backoff
        self._clean = 0  # clean answers not yet counted in the store
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
        clean, self._clean = self._clean, 0
        args = (self.key, self.limits, self._clock, self.backoff, clean)
        try:
            if self._store.blocking:
                return await asyncio.to_thread(self._store.reserve, *args)
            return self._store.reserve(*args)
        except BaseException:
            self._clean += clean
            raise

    def pause(self, seconds: float) -> None:
        """The venue said "too many": nobody using this budget calls for ``seconds``."""
        self._store.pause(self.key, self._clock() + seconds)

    def slow_down(self) -> None:
        """The venue said "too many": lower the shared rate (with a ``backoff``)."""
        if self.backoff is None:
            return
        self._clean = 0
        factor = self._store.slow_down(self.key, self.backoff, self._clock())
        log.warning("budget %s: venue refused for pace; rate now %.0f%%", self.key, 100 * factor)

    def answered(self) -> None:
        """A clean answer: counted towards the rate's recovery at the next reservation."""
        if self.backoff is not None:
            self._clean += 1

    def current_limits(self) -> tuple[RateLimit, ...]:
        """The limits in force now: the configured ones scaled by the shared factor."""
        if self.backoff is None:
            return self.limits
        return scaled(self.limits, self._store.rate_factor(self.key))

    def usage(self) -> BudgetUsage:
        limits = self.current_limits()
        used, paused = self._store.usage(self.key, limits, self._clock())
        return BudgetUsage(self.key, limits, tuple(used), paused)
