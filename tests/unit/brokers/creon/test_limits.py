"""Creon's request counters: the bridge waits on Creon's own count and never gets status 4."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import httpx
import pytest

from fakes.creon_venue import CODE
from fakes.creon_venue import SECRET
from fakes.creon_venue import start_bridge
from jts.brokers.creon.bridge import com
from jts.brokers.creon.bridge.errors import BridgeError
from jts.brokers.creon.bridge.fake_com import FakeCreonMarket
from jts.brokers.creon.bridge.service import CreonBridge
from jts.brokers.creon.schemas import OrderIn
from jts.domain.enums import Side
from jts.domain.timestamps import NANOS_PER_DAY
from jts.domain.timestamps import dt_to_ns

KST = timezone(timedelta(hours=9))


class ManualClock:
    """Monotonic seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.t = 1_000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def paced() -> AsyncIterator[tuple[FakeCreonMarket, CreonBridge, ManualClock]]:
    clock = ManualClock()
    market = FakeCreonMarket(clock=clock.now)
    bridge = CreonBridge(market.factory(), sleep=clock.sleep, max_wait=20.0)
    await bridge.start()
    yield market, bridge, clock
    await bridge.stop()


def test_fake_counters_behave_like_creons() -> None:
    clock = ManualClock()
    market = FakeCreonMarket(clock=clock.now)
    cybos = market.factory().dispatch(com.CYBOS)
    assert cybos.GetLimitRemainCount(com.LT_TRADE_REQUEST) == 20
    assert cybos.GetLimitRemainCount(com.LT_NONTRADE_REQUEST) == 60
    assert cybos.LimitRequestRemainTime == 0
    balance = market.factory().dispatch(com.BALANCE)
    balance.SetInputValue(0, market.account)
    balance.SetInputValue(1, market.product)
    for _ in range(20):
        assert balance.BlockRequest() == com.RQ_OK
    assert cybos.GetLimitRemainCount(com.LT_TRADE_REQUEST) == 0
    clock.t += 4.0
    assert cybos.LimitRequestRemainTime == 11_000
    assert balance.BlockRequest() == com.RQ_LIMIT_EXCEEDED  # what the bridge must never see
    assert market.violations == 1
    clock.t += 11.0
    assert cybos.GetLimitRemainCount(com.LT_TRADE_REQUEST) == 20
    assert balance.BlockRequest() == com.RQ_OK


async def test_lookups_wait_for_creons_counter(
    paced: tuple[FakeCreonMarket, CreonBridge, ManualClock],
) -> None:
    market, bridge, clock = paced
    for _ in range(130):
        await bridge.quote(CODE)
    assert market.requests[com.LT_NONTRADE_REQUEST] == 130
    assert market.violations == 0
    assert bridge.gate.waits == 2  # after the 60th and the 120th
    assert clock.t - 1_000.0 >= 30.0


async def test_orders_wait_for_creons_counter_and_never_see_status_4(
    paced: tuple[FakeCreonMarket, CreonBridge, ManualClock],
) -> None:
    market, bridge, _clock = paced
    order = OrderIn(side=Side.BUY, code=CODE, quantity=1, price=60_000)
    acks = [await bridge.place(order) for _ in range(45)]
    assert len({a.order_no for a in acks}) == 45
    assert market.submissions == 45
    assert market.violations == 0
    assert bridge.gate.waits == 2


async def test_a_long_wait_is_a_429_with_retry_after() -> None:
    clock = ManualClock()
    market = FakeCreonMarket(clock=clock.now)
    server = await start_bridge(market, max_wait=1.0, sleep=clock.sleep)
    headers = {"Authorization": f"Bearer {SECRET}"}
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            for _ in range(60):
                assert (await http.get(f"/quotes/{CODE}")).status_code == 200
            answer = await http.get(f"/quotes/{CODE}")
            assert answer.status_code == 429
            assert answer.json()["code"] == "RATE_LIMITED"
            assert 1 <= int(answer.headers["Retry-After"]) <= 16
            clock.t += 15.0
            assert (await http.get(f"/quotes/{CODE}")).status_code == 200
    finally:
        await server.stop()
    assert market.violations == 0


async def test_bridge_error_for_a_spent_counter_names_the_wait(
    paced: tuple[FakeCreonMarket, CreonBridge, ManualClock],
) -> None:
    market, bridge, _clock = paced
    bridge.page_wait = 5.0  # less than the rest of the 15-second window
    for _ in range(20):
        await bridge.open_orders()
    with pytest.raises(BridgeError) as caught:
        await bridge.open_orders()
    assert caught.value.status == 429
    assert caught.value.sent is False
    assert caught.value.retry_after is not None and caught.value.retry_after > 10
    assert market.violations == 0


async def _paced_bridge(
    clock: ManualClock, page_wait: float = 60.0, **market_options: int
) -> tuple[FakeCreonMarket, CreonBridge]:
    market = FakeCreonMarket(clock=clock.now, **market_options)
    bridge = CreonBridge(market.factory(), sleep=clock.sleep, page_wait=page_wait)
    await bridge.start()
    return market, bridge


def _three_sessions(market: FakeCreonMarket) -> tuple[int, int]:
    """A range over the fake's seeded minutes (its last 3 sessions), weekends and all."""
    today = market.today
    session = dt_to_ns(datetime(today.year, today.month, today.day, 9, tzinfo=KST))
    return session - 7 * NANOS_PER_DAY, session + NANOS_PER_DAY


async def test_a_chart_longer_than_a_window_waits_for_the_next_and_completes() -> None:
    clock = ManualClock()
    # 3 look-ups a window, 100 rows a page: 3 sessions of minutes are 12 pages, 4 windows.
    market, bridge = await _paced_bridge(clock, quote_limit=3, page_size=100)
    try:
        start, end = _three_sessions(market)
        bars = await bridge.bars(CODE, "1m", start, end)
    finally:
        await bridge.stop()
    assert len(bars) == 3 * 390
    assert [b.ts for b in bars] == sorted(b.ts for b in bars)
    assert market.requests[com.LT_NONTRADE_REQUEST] == 12
    assert market.violations == 0
    assert bridge.gate.waits == 3
    assert 3 * 14 <= clock.t - 1_000.0 <= 60.0


async def test_a_look_up_gives_up_with_429_only_after_its_waiting_budget() -> None:
    clock = ManualClock()
    # One look-up a window: 12 pages would wait 11 windows, far past the 60-second budget.
    market, bridge = await _paced_bridge(clock, quote_limit=1, page_size=100)
    try:
        start, end = _three_sessions(market)
        with pytest.raises(BridgeError) as caught:
            await bridge.bars(CODE, "1m", start, end)
    finally:
        await bridge.stop()
    assert (caught.value.status, caught.value.code, caught.value.sent) == (
        429,
        "RATE_LIMITED",
        False,
    )
    assert "budget" in caught.value.detail
    assert 45.0 <= sum(clock.slept) <= 60.0
    assert market.violations == 0


async def test_hundreds_of_open_orders_are_listed_across_windows() -> None:
    clock = ManualClock()
    market, bridge = await _paced_bridge(clock, trade_limit=2, cash=10_000_000_000)
    try:
        for _ in range(90):  # placed in the HTS: not through the bridge's counter
            order, problem = market.place(
                {0: "2", 1: market.account, 2: market.product, 3: CODE, 4: 1, 5: 60_000}
            )
            assert order is not None, problem
        listed = await bridge.open_orders()
        balance = await bridge.balance()
    finally:
        await bridge.stop()
    assert len({o.order_no for o in listed}) == 90  # 5 pages of 20 at 2 a window
    assert balance.reserved_cash == 90 * 60_000
    assert market.violations == 0
    assert bridge.gate.waits >= 4
