"""``subscribe_inline``: a handler that mostly finishes without awaiting, on every bus."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal

import pytest

from jts.bus.direct import DirectMessageBus
from jts.bus.inprocess import InProcessMessageBus
from jts.domain.events import Event
from jts.domain.events import TickEvent
from jts.domain.market import Tick
from jts.ports.bus import MessageBus


def _ev(n: int) -> TickEvent:
    tick = Tick("KRX:A", n, Decimal(n + 1), Decimal(1))
    return TickEvent(event_id=f"tick:{n}", ts=n, source="test", key="KRX:A", tick=tick)


def _buses() -> list[MessageBus]:
    return [DirectMessageBus(), InProcessMessageBus(lanes=2)]


@pytest.mark.parametrize("make", [0, 1], ids=["direct", "inprocess"])
async def test_an_inline_handler_runs_plain_and_what_it_hands_back_is_awaited(make: int) -> None:
    bus = _buses()[make]
    seen: list[str] = []

    async def rest(n: int) -> None:
        await asyncio.sleep(0)
        seen.append(f"rest{n}")

    def handle(event: Event) -> Awaitable[None] | None:
        assert isinstance(event, TickEvent)
        seen.append(f"call{event.tick.ts}")
        # Odd events need an await: the bus finishes them before it counts them handled.
        return rest(event.tick.ts) if event.tick.ts % 2 else None

    bus.subscribe_inline("t", handle, group="g")
    await bus.start()
    for n in range(4):
        await bus.publish("t", _ev(n))
    await bus.publish("t", _ev(1))  # a copy: the group has handled it, it is skipped
    await bus.drain()
    assert seen == ["call0", "call1", "rest1", "call2", "call3", "rest3"]
    await bus.stop()


async def test_the_direct_bus_calls_an_inline_handler_without_making_a_coroutine() -> None:
    bus = DirectMessageBus()
    calls: list[int] = []
    bus.subscribe_inline("t", lambda event: calls.append(event.ts), group="g")  # type: ignore[func-returns-value]
    await bus.start()
    await bus.publish("t", _ev(7))
    assert calls == [7]
    assert bus.stats["t"].delivered == 1
    await bus.stop()


async def test_an_inline_handler_that_raises_is_counted_and_the_bus_goes_on() -> None:
    bus = DirectMessageBus()
    seen: list[int] = []

    def handle(event: Event) -> None:
        if event.ts == 1:
            raise ValueError("boom")
        seen.append(event.ts)

    bus.subscribe_inline("t", handle, group="g")
    await bus.start()
    for n in range(3):
        await bus.publish("t", _ev(n))
    assert seen == [0, 2]
    assert bus.stats["t"].handler_errors == 1
    assert [failed.event.ts for failed in bus.failed] == [1]
    await bus.stop()
