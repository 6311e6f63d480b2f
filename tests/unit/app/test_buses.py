"""The market-time bus wrapper and the choice of bus from settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jts.app.buses import MarketTimeBus
from jts.app.buses import kafka_bus
from jts.app.settings import Settings
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import MarketClock
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.events import Event
from jts.domain.events import SignalEvent
from jts.domain.signals import Signal


async def test_handlers_see_the_clock_at_the_time_of_their_event() -> None:
    inner = InProcessMessageBus()
    clock = MarketClock(100)
    bus = MarketTimeBus(inner, clock)
    seen: list[tuple[int, int]] = []

    async def handler(event: Event) -> None:
        seen.append((event.ts, clock.timestamp_ns()))

    bus.subscribe(topics.SIGNALS, handler, group="g")
    await bus.start()
    for ts in (500, 300, 900):  # an older event never moves market time back
        signal = Signal("s", "KRX:005930", Side.BUY, ts=ts, price=Decimal(1))
        await bus.publish(topics.SIGNALS, SignalEvent.from_signal(signal, ts=ts, source="t"))
        await bus.drain()
    await bus.stop()

    assert seen == [(500, 500), (300, 500), (900, 900)]


def test_serving_without_kafka_configured_is_a_clear_error() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="JTS_BUS__KIND=kafka"):
        kafka_bus(settings)
