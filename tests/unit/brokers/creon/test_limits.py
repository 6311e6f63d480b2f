"""Creon's request counters: the bridge waits on Creon's own count and never gets status 4."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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
    bridge.gate.max_wait = 0.5
    for _ in range(20):
        await bridge.open_orders()
    with pytest.raises(BridgeError) as caught:
        await bridge.open_orders()
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after > 10
    assert market.violations == 0
