from __future__ import annotations

import asyncio
import logging
import random
import zlib
from collections import defaultdict
from decimal import Decimal

import msgspec
import pytest

from jts.bus.inprocess import BusDeadlockError
from jts.bus.inprocess import InProcessMessageBus
from jts.domain.errors import ConfigurationError
from jts.domain.errors import JtsError
from jts.domain.events import Event
from jts.domain.events import TickEvent
from jts.domain.market import Tick
from jts.ports.bus import MessageBus


def _ev(key: str, n: int) -> TickEvent:
    tick = Tick(key, n, Decimal(n + 1), Decimal(1))
    return TickEvent(event_id=f"tick:{key}:{n}", ts=n, source="test", key=key, tick=tick)


def _seq(event: Event) -> int:
    assert isinstance(event, TickEvent)
    return event.tick.ts


async def _settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_it_satisfies_the_port_and_every_group_gets_every_event() -> None:
    bus: MessageBus = InProcessMessageBus()
    seen: dict[str, list[int]] = defaultdict(list)

    def recorder(group: str):  # type: ignore[no-untyped-def]
        async def handle(event: Event) -> None:
            seen[group].append(_seq(event))

        return handle

    bus.subscribe("t", recorder("g1"), group="g1")
    bus.subscribe("t", recorder("g2"), group="g2")
    bus.subscribe("other", recorder("g3"), group="g3")
    await bus.start()
    for n in range(10):
        await bus.publish("t", _ev("KRX:005930", n))
    await bus.drain()
    assert seen == {"g1": list(range(10)), "g2": list(range(10))}
    assert isinstance(bus, InProcessMessageBus)
    stats = bus.stats["t"]
    assert (stats.published, stats.delivered, stats.handler_errors) == (10, 20, 0)
    assert bus.stats["other"].published == 0
    await bus.stop()


async def test_same_key_keeps_publish_order_while_keys_run_in_parallel() -> None:
    rng = random.Random(7)
    bus = InProcessMessageBus(lanes=4)
    order: dict[str, list[int]] = defaultdict(list)
    running = 0
    peak = 0

    async def handle(event: Event) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(rng.random() / 500)
        order[event.key].append(_seq(event))
        running -= 1

    bus.subscribe("t", handle, group="g")
    await bus.start()
    keys = [f"KRX:00{i:04d}" for i in range(8)]
    for n in range(40):
        for key in rng.sample(keys, len(keys)):
            await bus.publish("t", _ev(key, n))
    await bus.drain()
    assert {key: order[key] for key in keys} == {key: list(range(40)) for key in keys}
    assert peak > 1, "different keys should be handled concurrently"
    await bus.stop()


async def test_a_key_always_lands_on_its_crc32_lane() -> None:
    bus = InProcessMessageBus(lanes=4, queue_size=100)
    gate = asyncio.Event()

    async def handle(event: Event) -> None:
        await gate.wait()

    bus.subscribe("t", handle, group="g")
    await bus.start()
    for key in ("KRX:005930", "UPBIT:KRW-BTC", "BINANCE:BTCUSDT"):
        before = bus.queue_depths("t")["g"]
        for n in range(5):
            await bus.publish("t", _ev(key, n))
        await _settle()
        after = bus.queue_depths("t")["g"]
        lane = zlib.crc32(key.encode()) % 4
        grown = [i for i in range(4) if after[i] > before[i]]
        assert grown == [lane]
    gate.set()
    await bus.drain()
    await bus.stop()


async def test_publish_waits_for_a_slow_consumer_and_queues_stay_bounded() -> None:
    bus = InProcessMessageBus(queue_size=2, lanes=1)
    gate = asyncio.Event()
    handled: list[int] = []

    async def slow(event: Event) -> None:
        await gate.wait()
        handled.append(_seq(event))

    bus.subscribe("t", slow, group="g")
    await bus.start()
    published: list[int] = []

    async def producer() -> None:
        for n in range(10):
            await bus.publish("t", _ev("K", n))
            published.append(n)

    task = asyncio.create_task(producer())
    depths: list[int] = []
    for _ in range(50):
        await asyncio.sleep(0)
        depths.extend(bus.queue_depths("t")["g"])
    # One event in the handler, two in the queue, the producer stuck on the fourth.
    assert not task.done()
    assert published == [0, 1, 2]
    assert max(depths) == 2

    gate.set()
    while not task.done():
        await asyncio.sleep(0)
        depths.extend(bus.queue_depths("t")["g"])
    await bus.drain()
    assert max(depths) <= 2
    assert handled == list(range(10))
    await bus.stop()


async def test_duplicate_event_ids_are_skipped_per_group() -> None:
    bus = InProcessMessageBus()
    calls: dict[str, list[str]] = defaultdict(list)

    async def g1(event: Event) -> None:
        calls["g1"].append(event.event_id)

    async def g2(event: Event) -> None:
        calls["g2"].append(event.event_id)

    bus.subscribe("t", g1, group="g1")
    bus.subscribe("t", g2, group="g2")
    await bus.start()
    event = _ev("K", 1)
    await bus.publish("t", event)
    await bus.publish("t", event)
    await bus.publish("t", msgspec.structs.replace(event))
    await bus.drain()
    assert calls == {"g1": [event.event_id], "g2": [event.event_id]}
    stats = bus.stats["t"]
    assert (stats.published, stats.delivered, stats.duplicates_skipped) == (3, 2, 4)
    await bus.stop()


async def test_dedupe_memory_is_a_bounded_window() -> None:
    bus = InProcessMessageBus(dedupe_window=3, lanes=1)
    handled: list[int] = []

    async def handle(event: Event) -> None:
        handled.append(_seq(event))

    bus.subscribe("t", handle, group="g")
    await bus.start()
    events = [_ev("K", n) for n in range(5)]
    for event in events:
        await bus.publish("t", event)
    await bus.drain()
    # 2, 3, 4 are remembered; 0 fell out of the window and is handled again.
    await bus.publish("t", events[4])
    await bus.publish("t", events[0])
    await bus.drain()
    assert handled == [0, 1, 2, 3, 4, 0]
    assert bus.stats["t"].duplicates_skipped == 1
    for n in range(1000):
        await bus.publish("t", _ev("K", 100 + n))
    await bus.drain()
    assert all(len(group.seen) <= 3 for group in bus._groups["t"])
    await bus.stop()


async def test_a_failing_handler_is_logged_counted_and_the_bus_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = InProcessMessageBus(lanes=2)
    handled: list[int] = []

    async def handle(event: Event) -> None:
        if _seq(event) == 3:
            raise ValueError("boom")
        handled.append(_seq(event))

    bus.subscribe("t", handle, group="g")
    await bus.start()
    events = [_ev("K", n) for n in range(6)]
    with caplog.at_level(logging.ERROR, logger="jts.bus"):
        for event in events:
            await bus.publish("t", event)
        await bus.drain()
    assert handled == [0, 1, 2, 4, 5]
    assert bus.stats["t"].handler_errors == 1
    assert bus.stats["t"].delivered == 5
    [failure] = list(bus.failed)
    assert (failure.topic, failure.group, failure.event) == ("t", "g", events[3])
    assert "ValueError('boom')" in failure.error
    [record] = [r for r in caplog.records if r.name == "jts.bus"]
    assert events[3].event_id in record.getMessage()
    assert "topic=t group=g" in record.getMessage()
    assert record.exc_info is not None
    # A failed event is not remembered as handled: a redelivery gets another try.
    await bus.publish("t", events[3])
    await bus.drain()
    assert bus.stats["t"].handler_errors == 2
    await bus.stop()


async def test_failed_deque_is_bounded() -> None:
    bus = InProcessMessageBus(max_failed=3, logger=logging.getLogger("test.quiet"))
    logging.getLogger("test.quiet").disabled = True

    async def handle(event: Event) -> None:
        raise RuntimeError(str(_seq(event)))

    bus.subscribe("t", handle, group="g")
    await bus.start()
    for n in range(10):
        await bus.publish("t", _ev("K", n))
    await bus.drain()
    assert bus.stats["t"].handler_errors == 10
    assert [_seq(f.event) for f in bus.failed] == [7, 8, 9]
    await bus.stop()


async def test_drain_waits_for_cascading_publishes() -> None:
    bus = InProcessMessageBus(queue_size=2)
    finished: list[str] = []

    async def on_a(event: Event) -> None:
        await asyncio.sleep(0.001)
        for n in range(3):
            await bus.publish("b", _ev(f"{event.key}-{n}", n))

    async def on_b(event: Event) -> None:
        await asyncio.sleep(0.001)
        await bus.publish("c", _ev(event.key, 0))

    async def on_c(event: Event) -> None:
        await asyncio.sleep(0.002)
        finished.append(event.key)

    bus.subscribe("a", on_a, group="g")
    bus.subscribe("b", on_b, group="g")
    bus.subscribe("c", on_c, group="g")
    await bus.start()
    for key in ("x", "y", "z"):
        await bus.publish("a", _ev(key, 0))
    await bus.drain()
    assert sorted(finished) == sorted(f"{k}-{n}" for k in "xyz" for n in range(3))
    assert bus.stats["c"].delivered == 9
    await bus.stop()


async def test_self_publishing_into_a_full_lane_fails_instead_of_deadlocking() -> None:
    bus = InProcessMessageBus(queue_size=1, lanes=1)
    handled: list[int] = []

    async def handle(event: Event) -> None:
        handled.append(_seq(event))
        if _seq(event) < 3:
            await bus.publish("t", _ev("K", _seq(event) + 10))
            await bus.publish("t", _ev("K", _seq(event) + 20))

    bus.subscribe("t", handle, group="g")
    await bus.start()
    await bus.publish("t", _ev("K", 0))
    await asyncio.wait_for(bus.drain(), timeout=2)
    assert handled == [0, 10]
    [failure] = list(bus.failed)
    assert "BusDeadlockError" in failure.error
    assert "topics must form a DAG" in failure.error
    await asyncio.wait_for(bus.stop(), timeout=2)


async def test_a_publish_cycle_across_topics_is_detected() -> None:
    bus = InProcessMessageBus(queue_size=1, lanes=1)
    gate_a = asyncio.Event()
    gate_b = asyncio.Event()
    handled: list[str] = []

    async def on_a(event: Event) -> None:
        handled.append(f"a{_seq(event)}")
        if _seq(event) == 0:
            await gate_a.wait()
            await bus.publish("b", _ev("K", 9))

    async def on_b(event: Event) -> None:
        handled.append(f"b{_seq(event)}")
        if _seq(event) == 0:
            await gate_b.wait()
            await bus.publish("a", _ev("K", 9))

    bus.subscribe("a", on_a, group="ga")
    bus.subscribe("b", on_b, group="gb")
    await bus.start()
    await bus.publish("a", _ev("K", 0))
    await bus.publish("b", _ev("K", 0))
    await _settle()
    await bus.publish("a", _ev("K", 1))  # both queues are now full
    await bus.publish("b", _ev("K", 1))
    gate_a.set()
    await _settle()  # a's handler now waits for room in b's queue
    gate_b.set()  # b's handler would wait for room in a's queue: a cycle
    await asyncio.wait_for(bus.drain(), timeout=2)
    [failure] = list(bus.failed)
    assert (failure.topic, failure.group) == ("b", "gb")
    assert "BusDeadlockError" in failure.error
    assert sorted(handled) == ["a0", "a1", "b0", "b1", "b9"]
    await bus.stop()


async def test_drain_inside_a_handler_is_refused() -> None:
    bus = InProcessMessageBus()
    errors: list[BaseException] = []

    async def handle(event: Event) -> None:
        try:
            await bus.drain()
        except BusDeadlockError as exc:
            errors.append(exc)

    bus.subscribe("t", handle, group="g")
    await bus.start()
    await bus.publish("t", _ev("K", 0))
    await asyncio.wait_for(bus.drain(), timeout=2)
    assert len(errors) == 1
    await bus.stop()


async def test_lifecycle_publish_needs_a_started_bus_and_stop_drains_first() -> None:
    bus = InProcessMessageBus()
    handled: list[int] = []

    async def slow(event: Event) -> None:
        await asyncio.sleep(0.001)
        handled.append(_seq(event))

    bus.subscribe("t", slow, group="g")
    with pytest.raises(JtsError, match=r"start\(\) it before publishing"):
        await bus.publish("t", _ev("K", 0))
    await bus.start()
    for n in range(20):
        await bus.publish("t", _ev("K", n))
    await bus.stop()
    assert handled == list(range(20))
    assert not bus._worker_tasks
    with pytest.raises(JtsError, match="STOPPED"):
        await bus.publish("t", _ev("K", 99))
    # A stopped bus can be started again.
    await bus.start()
    await bus.publish("t", _ev("K", 20))
    await bus.stop()
    assert handled[-1] == 20


async def test_subscribing_after_start_starts_workers() -> None:
    bus = InProcessMessageBus()
    await bus.start()
    await bus.publish("t", _ev("K", 0))  # no subscriber yet: counted, not delivered
    handled: list[int] = []

    async def handle(event: Event) -> None:
        handled.append(_seq(event))

    bus.subscribe("t", handle, group="late")
    await bus.publish("t", _ev("K", 1))
    await bus.drain()
    assert handled == [1]
    assert bus.stats["t"].published == 2
    assert bus.stats["t"].delivered == 1
    await bus.stop()


def test_bad_configuration_is_refused() -> None:
    async def handle(event: Event) -> None:
        return None

    bus = InProcessMessageBus()
    bus.subscribe("t", handle, group="g")
    with pytest.raises(ConfigurationError, match="already subscribed"):
        bus.subscribe("t", handle, group="g")
    bus.subscribe("u", handle, group="g")
    with pytest.raises(ConfigurationError):
        InProcessMessageBus(queue_size=0)
    with pytest.raises(ConfigurationError):
        InProcessMessageBus(lanes=0)
