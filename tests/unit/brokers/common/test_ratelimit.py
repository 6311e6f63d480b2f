"""Rate budgets: windows respected, waits computed, shared across processes through SQLite."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from jts.brokers.common.ratelimit import Backoff
from jts.brokers.common.ratelimit import MemoryWindows
from jts.brokers.common.ratelimit import RateBudget
from jts.brokers.common.ratelimit import RateLimit
from jts.brokers.common.ratelimit import SqliteWindows
from jts.domain.errors import ConfigurationError


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
async def test_per_second_budget_spreads_a_burst(store_kind: str, tmp_path: Path) -> None:
    t = FakeTime()
    store = MemoryWindows() if store_kind == "memory" else SqliteWindows(tmp_path / "b.sqlite")
    budget = RateBudget("kis:A", [RateLimit(2, 1.0)], store, clock=t.clock, sleep=t.sleep)
    start = t.now
    stamps = []
    for _ in range(6):
        await budget.acquire()
        stamps.append(t.now - start)
    # Two calls per second: 0, 0, 1, 1, 2, 2.
    assert stamps == pytest.approx([0, 0, 1, 1, 2, 2])


async def test_sliding_window_and_per_second_together() -> None:
    t = FakeTime()
    budget = RateBudget(
        "creon:lookups", [RateLimit(60, 15.0), RateLimit(10, 1.0)], clock=t.clock, sleep=t.sleep
    )
    for _ in range(60):
        await budget.acquire()
    # 60 calls at 10/s take ~5 s; the 61st must wait until 15 s after the first.
    assert t.now - 1_000.0 == pytest.approx(5.0)
    await budget.acquire()
    assert t.now - 1_000.0 == pytest.approx(15.0)
    # The first second's ten calls have left the window: 50 + this one.
    assert budget.usage().used == (51, 1)


async def test_pause_stops_every_user_of_the_budget(tmp_path: Path) -> None:
    t = FakeTime()
    path = tmp_path / "shared.sqlite"
    one = RateBudget(
        "kis:A", [RateLimit(20, 1.0)], SqliteWindows(path), clock=t.clock, sleep=t.sleep
    )
    two = RateBudget(
        "kis:A", [RateLimit(20, 1.0)], SqliteWindows(path), clock=t.clock, sleep=t.sleep
    )
    one.pause(3.0)
    assert two.usage().paused_for == pytest.approx(3.0)
    await two.acquire()
    assert t.slept == [pytest.approx(3.0)]


async def calls_in_one_second(budget: RateBudget, t: FakeTime) -> int:
    """How many reservations fit before the budget makes the caller wait a second."""
    start, done = t.now, 0
    while t.now - start < 1.0 and done < 100:
        await budget.acquire()
        done += 1
    return done - 1 if t.now - start >= 1.0 else done


async def test_a_refusal_lowers_the_rate_for_every_process_on_the_file(tmp_path: Path) -> None:
    t = FakeTime()
    path = tmp_path / "shared.sqlite"
    backoff = Backoff(decrease=0.5, floor=0.1, clean_calls=1_000)

    def budget() -> RateBudget:
        return RateBudget(
            "kis:A",
            [RateLimit(20, 1.0)],
            SqliteWindows(path),  # one connection each, as two processes would have
            clock=t.clock,
            sleep=t.sleep,
            backoff=backoff,
        )

    one, two = budget(), budget()
    assert await calls_in_one_second(two, t) == 20
    one.slow_down()
    one.slow_down()  # the same burst of refusals: still one cut
    assert two.current_limits() == (RateLimit(10, 1.0),)
    t.now += 2.0
    assert await calls_in_one_second(two, t) == 10
    one.slow_down()  # a second burst, a second later
    assert two.usage().limits == (RateLimit(5, 1.0),)
    for _ in range(5):
        one.slow_down()
        t.now += 1.0
    assert two.current_limits() == (RateLimit(2, 1.0),)  # the floor: 10 % of 20


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
async def test_the_rate_climbs_back_after_clean_answers(store_kind: str, tmp_path: Path) -> None:
    t = FakeTime()
    store = MemoryWindows() if store_kind == "memory" else SqliteWindows(tmp_path / "b.sqlite")
    backoff = Backoff(decrease=0.5, step=0.25, clean_calls=4)
    budget = RateBudget(
        "kis:A", [RateLimit(8, 1.0)], store, clock=t.clock, sleep=t.sleep, backoff=backoff
    )
    budget.slow_down()
    assert budget.current_limits() == (RateLimit(4, 1.0),)
    for _ in range(3):
        await budget.acquire()
        budget.answered()
    await budget.acquire()  # clean answers are counted at the next reservation
    assert budget.current_limits() == (RateLimit(4, 1.0),)  # 3 of 4 clean answers
    budget.answered()
    await budget.acquire()
    assert budget.current_limits() == (RateLimit(6, 1.0),)  # +25 % after 4
    for _ in range(20):
        await budget.acquire()
        budget.answered()
    await budget.acquire()
    assert budget.current_limits() == (RateLimit(8, 1.0),)  # never above the configured rate


def test_limits_must_make_sense() -> None:
    with pytest.raises(ConfigurationError):
        RateLimit(0, 1.0)
    with pytest.raises(ConfigurationError):
        RateBudget("x", [])


def _hammer(path: str, calls: int, out: multiprocessing.Queue[list[float]]) -> None:
    import asyncio

    async def run() -> list[float]:
        budget = RateBudget("kis:shared", [RateLimit(5, 0.5)], SqliteWindows(Path(path)))
        stamps = []
        for _ in range(calls):
            await budget.acquire()
            stamps.append(time.time())
        return stamps

    out.put(asyncio.run(run()))


def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    """Separate OS processes on one key never exceed the window together."""
    path = str(tmp_path / "budget.sqlite")
    SqliteWindows(Path(path)).close()
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[float]] = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(path, 10, out)) for _ in range(2)]
    for p in procs:
        p.start()
    stamps = sorted(out.get(timeout=60) + out.get(timeout=60))
    for p in procs:
        p.join(timeout=30)
    assert len(stamps) == 20
    # Any 0.5 s window holds at most 5 calls (slack: stamps are taken after acquire returns).
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 0.5 - 0.02
