from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from jts.bus.direct import DirectMessageBus
from jts.bus.inprocess import BusDeadlockError
from jts.domain.errors import ConfigurationError
from jts.domain.errors import JtsError
from jts.domain.events import Event
from jts.domain.events import TickEvent
from jts.domain.market import Tick
from jts.ports.bus import MessageBus


def _ev(key: str, n: int, event_id: str | None = None) -> TickEvent:
    tick = Tick(key, n, Decimal(n + 1), Decimal(1))
    return TickEvent(
        event_id=event_id or f"tick:{key}:{n}", ts=n, source="test", key=key, tick=tick
    )


def _seq(event: Event) -> int:
    assert isinstance(event, TickEvent)
    return event.tick.ts


async def test_it_satisfies_the_port_and_every_group_gets_every_event_in_order() -> None:
    bus: MessageBus = DirectMessageBus()
    seen: list[tuple[str, int]] = []

    def recorder(group: str):  # type: ignore[no-untyped-def]
        async def handle(event: Event) -> None:
            seen.append((group, _seq(event)))

        return handle

    bus.subscribe("t", recorder("g1"), group="g1")
    bus.subscribe("t", recorder("g2"), group="g2")
    await bus.start()
    for n, key in enumerate(["KRX:A", "KRX:B", "KRX:A"]):
        await bus.publish("t", _ev(key, n))
    # Delivered inline: nothing is left to drain, and the order is publish, then group.
    assert seen == [("g1", 0), ("g2", 0), ("g1", 1), ("g2", 1), ("g1", 2), ("g2", 2)]
    assert isinstance(bus, DirectMessageBus)
    stats = bus.stats["t"]
    assert (stats.published, stats.delivered, stats.handler_errors) == (3, 6, 0)
    await bus.stop()


async def test_events_published_by_handlers_come_after_everything_published_before() -> None:
    bus = DirectMessageBus()
    order: list[str] = []

    async def on_bar(event: Event) -> None:
        order.append(f"bar{_seq(event)}")
        await bus.publish("signals", _ev("KRX:A", _seq(event) + 100))

    async def on_bar_portfolio(event: Event) -> None:
        order.append(f"mark{_seq(event)}")

    async def on_signal(event: Event) -> None:
        order.append(f"signal{_seq(event) - 100}")

    bus.subscribe("bars", on_bar, group="strategy")
    bus.subscribe("bars", on_bar_portfolio, group="portfolio")
    bus.subscribe("signals", on_signal, group="execution")
    await bus.start()
    await bus.publish("bars", _ev("KRX:A", 1))
    # Breadth first: the portfolio sees the bar before execution sees the bar's signal.
    assert order == ["bar1", "mark1", "signal1"]
    await bus.stop()


async def test_the_same_inputs_give_the_same_delivery_order_every_run() -> None:
    async def run() -> list[int]:
        bus = DirectMessageBus()
        got: list[int] = []

        async def slow_then_fan_out(event: Event) -> None:
            await asyncio.sleep(0)  # a handler that yields must not reorder anything
            if _seq(event) < 20:
                await bus.publish("t", _ev("k", _seq(event) * 2 + 20))
                await bus.publish("t", _ev("k", _seq(event) * 2 + 21))
            got.append(_seq(event))

        bus.subscribe("t", slow_then_fan_out, group="g")
        await bus.start()
        for n in range(5):
            await bus.publish("t", _ev(f"k{n}", n))
        await bus.stop()
        return got

    first = await run()
    assert first == await run()
    # A publish returns once what it caused is handled: each input's cascade comes first.
    assert first == [0, 20, 21, 1, 22, 23, 2, 24, 25, 3, 26, 27, 4, 28, 29]


async def test_a_publish_from_another_task_while_delivering_is_delivered_by_drain() -> None:
    bus = DirectMessageBus()
    got: list[int] = []
    gate = asyncio.Event()

    async def handle(event: Event) -> None:
        if _seq(event) == 0:
            await gate.wait()
        got.append(_seq(event))

    bus.subscribe("t", handle, group="g")
    await bus.start()
    first = asyncio.create_task(bus.publish("t", _ev("k", 0)))
    await asyncio.sleep(0)
    await bus.publish("t", _ev("k", 1))  # the first publisher is still delivering
    assert got == []
    gate.set()
    await bus.drain()
    await first
    assert got == [0, 1]
    await bus.stop()


async def test_duplicate_event_ids_are_skipped_per_group_within_a_bounded_window() -> None:
    bus = DirectMessageBus(dedupe_window=2)
    got: list[int] = []

    async def handle(event: Event) -> None:
        got.append(_seq(event))

    bus.subscribe("t", handle, group="g")
    await bus.start()
    await bus.publish("t", _ev("k", 1, "a"))
    await bus.publish("t", _ev("k", 2, "a"))
    assert got == [1]
    assert bus.stats["t"].duplicates_skipped == 1
    await bus.publish("t", _ev("k", 3, "b"))
    await bus.publish("t", _ev("k", 4, "c"))  # "a" falls out of the window
    await bus.publish("t", _ev("k", 5, "a"))
    assert got == [1, 3, 4, 5]
    await bus.stop()


async def test_a_failing_handler_is_logged_counted_and_redelivery_gets_another_chance(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = DirectMessageBus()
    calls: list[int] = []

    async def flaky(event: Event) -> None:
        calls.append(_seq(event))
        if len(calls) == 1:
            raise RuntimeError("boom")

    bus.subscribe("t", flaky, group="g")
    await bus.start()
    with caplog.at_level(logging.ERROR, logger="jts.bus"):
        await bus.publish("t", _ev("k", 7, "x"))
    await bus.publish("t", _ev("k", 7, "x"))  # not remembered as handled: tried again
    assert calls == [7, 7]
    assert bus.stats["t"].handler_errors == 1
    assert bus.stats["t"].delivered == 1
    assert [f.error for f in bus.failed] == ["RuntimeError('boom')"]
    assert "bus handler failed" in caplog.text
    await bus.stop()


async def test_a_copy_goes_only_to_the_group_whose_handler_failed_on_it() -> None:
    bus = DirectMessageBus()
    calls: list[tuple[str, int]] = []

    def handler(group: str, fail_first: bool):  # type: ignore[no-untyped-def]
        async def handle(event: Event) -> None:
            calls.append((group, _seq(event)))
            if fail_first and len([c for c in calls if c[0] == group]) == 1:
                raise RuntimeError("boom")

        return handle

    bus.subscribe("t", handler("ok", False), group="ok")
    bus.subscribe("t", handler("flaky", True), group="flaky")
    await bus.start()
    await bus.publish("t", _ev("k", 1, "x"))
    await bus.publish("t", _ev("k", 2, "x"))  # "ok" handled it; "flaky" failed on it
    await bus.publish("t", _ev("k", 3, "x"))  # now both have it
    assert calls == [("ok", 1), ("flaky", 1), ("flaky", 2)]
    stats = bus.stats["t"]
    assert (stats.delivered, stats.handler_errors, stats.duplicates_skipped) == (2, 1, 3)
    await bus.stop()


async def test_a_group_subscribed_later_takes_ids_the_earlier_groups_handled() -> None:
    bus = DirectMessageBus()
    calls: list[tuple[str, int]] = []

    def handler(group: str):  # type: ignore[no-untyped-def]
        async def handle(event: Event) -> None:
            calls.append((group, _seq(event)))

        return handle

    bus.subscribe("t", handler("early"), group="early")
    await bus.start()
    await bus.publish("t", _ev("k", 1, "x"))
    bus.subscribe("t", handler("late"), group="late")
    await bus.publish("t", _ev("k", 2, "x"))
    await bus.publish("t", _ev("k", 3, "x"))
    assert calls == [("early", 1), ("late", 2)]
    await bus.stop()


async def test_a_cancelled_delivery_still_reaches_the_groups_after_it() -> None:
    bus = DirectMessageBus()
    calls: list[tuple[str, int]] = []
    gate = asyncio.Event()

    async def blocking(event: Event) -> None:
        calls.append(("first", _seq(event)))
        await gate.wait()

    async def second(event: Event) -> None:
        calls.append(("second", _seq(event)))

    bus.subscribe("t", blocking, group="first")
    bus.subscribe("t", second, group="second")
    await bus.start()
    task = asyncio.create_task(bus.publish("t", _ev("k", 1, "x")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls == [("first", 1)]
    await bus.drain()  # the second group was not reached: it gets the event now
    await bus.publish("t", _ev("k", 2, "x"))  # the first group had begun it: no copy
    assert calls == [("first", 1), ("second", 1)]
    await bus.stop()


async def test_drain_inside_a_handler_is_refused() -> None:
    bus = DirectMessageBus()
    errors: list[BaseException] = []

    async def handle(event: Event) -> None:
        try:
            await bus.drain()
        except BusDeadlockError as exc:
            errors.append(exc)

    bus.subscribe("t", handle, group="g")
    await bus.start()
    await bus.publish("t", _ev("k", 0))
    assert len(errors) == 1
    await bus.stop()


async def test_lifecycle_and_configuration() -> None:
    bus = DirectMessageBus()
    with pytest.raises(JtsError, match="start"):
        await bus.publish("t", _ev("k", 0))
    bus.subscribe("t", lambda e: asyncio.sleep(0), group="g")
    with pytest.raises(ConfigurationError):
        bus.subscribe("t", lambda e: asyncio.sleep(0), group="g")
    await bus.start()
    await bus.publish("nobody", _ev("k", 0))
    assert bus.stats["nobody"].published == 1
    await bus.stop()
    with pytest.raises(JtsError):
        await bus.publish("t", _ev("k", 1))
    with pytest.raises(ConfigurationError):
        DirectMessageBus(dedupe_window=0)
