"""Minute watermarks: complete only once every lane marked it; copies and stale marks are no-ops."""

from __future__ import annotations

from jts.bus.inprocess import InProcessMessageBus
from jts.core.watermarks import STAGE_BARS
from jts.core.watermarks import STAGE_ORDERS
from jts.core.watermarks import STAGE_SIGNALS
from jts.core.watermarks import Watermark
from jts.core.watermarks import Watermarks
from jts.core.watermarks import broadcast
from jts.domain.events import Event
from jts.domain.events import MinuteMark


def _mark(minute: int, origin: int, partition: int, stage: str = STAGE_SIGNALS) -> MinuteMark:
    return MinuteMark.of(stage, minute, source="t", origin=origin, origins=2).on(partition, 3)


def test_a_minute_is_complete_once_every_origin_and_partition_marked_it() -> None:
    watermark = Watermark(STAGE_SIGNALS)
    lanes = [(o, p) for o in range(2) for p in range(3)]
    for origin, partition in lanes[:-1]:
        assert not watermark.observe(_mark(60, origin, partition))
    assert watermark.minute is None
    assert watermark.observe(_mark(60, *lanes[-1]))
    assert watermark.minute == 60


def test_copies_stale_marks_and_other_stages_change_nothing() -> None:
    watermark = Watermark(STAGE_SIGNALS)
    for origin in range(2):
        for partition in range(3):
            watermark.observe(_mark(120, origin, partition))
    assert watermark.minute == 120
    assert not watermark.observe(_mark(120, 0, 0))  # a redelivered copy
    assert not watermark.observe(_mark(60, 1, 2))  # an older minute, late
    assert not watermark.observe(_mark(180, 0, 0, stage=STAGE_BARS))
    assert watermark.minute == 120


def test_the_complete_minute_is_the_least_any_lane_marked() -> None:
    watermark = Watermark(STAGE_SIGNALS)
    for origin in range(2):
        for partition in range(3):
            watermark.observe(
                _mark(180 if (origin, partition) != (1, 1) else 60, origin, partition)
            )
    assert watermark.minute == 60
    assert watermark.observe(_mark(120, 1, 1))
    assert watermark.minute == 120  # the slow lane caught up to 120; the others are at 180


def test_several_stages_are_complete_where_the_slowest_is() -> None:
    marks = Watermarks((STAGE_BARS, STAGE_ORDERS))
    assert not marks.observe(MinuteMark.of(STAGE_ORDERS, 120, source="t"))
    assert marks.minute is None
    assert marks.observe(MinuteMark.of(STAGE_BARS, 60, source="t"))
    assert marks.minute == 60


class _Partitioned:
    """A bus with three partitions per topic that records what went where."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, Event]] = []

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def drain(self) -> None: ...
    def subscribe(self, topic: str, handler: object, *, group: str) -> None: ...

    async def publish(self, topic: str, event: Event) -> None:
        raise AssertionError("a mark goes to every partition, not by its key")

    def partitions(self, topic: str) -> int:
        return 3

    async def publish_to(self, topic: str, event: Event, partition: int) -> None:
        self.sent.append((topic, partition, event))


async def test_a_mark_goes_to_every_partition_under_an_id_of_its_own() -> None:
    bus = _Partitioned()
    await broadcast(bus, "signals", MinuteMark.of(STAGE_SIGNALS, 60, source="t", origins=2))  # type: ignore[arg-type]
    assert sorted(p for _, p, _ in bus.sent) == [0, 1, 2]
    marks = [e for _, _, e in bus.sent if isinstance(e, MinuteMark)]
    assert [
        (m.partition, m.partitions, m.origins) for m in sorted(marks, key=lambda m: m.partition)
    ] == [
        (0, 3, 2),
        (1, 3, 2),
        (2, 3, 2),
    ]
    assert len({m.event_id for m in marks}) == 3
    # The same mark again has the same ids: consumers drop it as a copy.
    again = _Partitioned()
    await broadcast(again, "signals", MinuteMark.of(STAGE_SIGNALS, 60, source="t", origins=2))  # type: ignore[arg-type]
    assert {e.event_id for _, _, e in again.sent} == {m.event_id for m in marks}


async def test_a_bus_without_partitions_gets_the_mark_once() -> None:
    bus = InProcessMessageBus()
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe("signals", record, group="g")
    await bus.start()
    try:
        await broadcast(bus, "signals", MinuteMark.of(STAGE_SIGNALS, 60, source="t"))
        await bus.drain()
    finally:
        await bus.stop()
    assert [(m.partition, m.partitions) for m in seen if isinstance(m, MinuteMark)] == [(0, 1)]
