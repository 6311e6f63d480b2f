"""The outbox relay: what was committed reaches the bus once, even after a crash or outage."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import cast

from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import LiveClock
from jts.core.clocks import SimClock
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import BusError
from jts.domain.errors import StorageUnavailable
from jts.domain.events import Event
from jts.domain.events import OrderPending
from jts.domain.events import OrderStatusChanged
from jts.domain.orders import Order
from jts.domain.timestamps import ns_to_dt
from jts.ports import ExecutionClient
from jts.ports import OutboxMessage
from jts.ports import OutboxRepository
from jts.ports import StoredOutboxMessage
from jts.services.execution import OrderExecutionService
from jts.services.execution.outbox import OutboxConfig
from jts.services.execution.outbox import OutboxRelay
from jts.storage.sql.repositories import SqlStore


class Outage:
    """A bus whose broker is down until ``up`` is set; publishes go to the real bus then."""

    def __init__(self, bus: InProcessMessageBus) -> None:
        self.bus = bus
        self.up = False
        self.attempts = 0

    async def start(self) -> None:
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()

    async def publish(self, topic: str, event: Event) -> None:
        self.attempts += 1
        if not self.up:
            raise BusError("broker unreachable")
        await self.bus.publish(topic, event)

    def subscribe(self, topic: str, handler: object, *, group: str) -> None:
        self.bus.subscribe(topic, handler, group=group)  # type: ignore[arg-type]

    async def drain(self) -> None:
        await self.bus.drain()


def make_order() -> Order:
    return Order(
        instrument_id="KRX:005930",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(10),
        price=Decimal(70_100),
        created_ts=1_700_000_000_000_000_000,
        broker="paper",
        signal_id=str(uuid.uuid4()),
    )


def collect(bus: InProcessMessageBus, *names: str) -> list[Event]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    for name in names:
        bus.subscribe(name, handler, group="observer")
    return seen


def order_messages() -> list[OutboxMessage]:
    order = make_order()
    return [
        OutboxMessage(
            topics.ORDERS_EVENTS,
            OrderStatusChanged.from_order(order, None, ts=1, source="test"),
        ),
        OutboxMessage(topics.ORDERS_PENDING, OrderPending.from_order(order, ts=1, source="test")),
    ]


async def test_rows_left_by_a_crash_are_published_in_order_at_start(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    messages = order_messages()
    # Committed, then the process died before publishing.
    await store.orders.add(make_order(), outbox=messages)

    relay = OutboxRelay(bus, store.outbox, clock=LiveClock())
    await relay.start()
    await bus.drain()
    await relay.stop()

    assert [e.event_id for e in seen] == [m.event.event_id for m in messages]
    assert await store.outbox.pending() == []
    # A second start finds nothing left to publish.
    again = OutboxRelay(bus, store.outbox, clock=LiveClock())
    await again.start()
    await bus.drain()
    await again.stop()
    assert len(seen) == 2


async def test_deliver_publishes_now_and_marks_in_the_background(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    relay = OutboxRelay(bus, store.outbox, OutboxConfig(mark_interval=0.01), clock=LiveClock())
    await relay.start()
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)

    await relay.deliver(messages)
    await bus.drain()
    assert len(seen) == 2
    await relay.stop()

    assert await store.outbox.pending() == []
    assert relay.stats.delivered == 2 and relay.stats.marked == 2


async def test_an_outage_leaves_rows_for_the_sweep_which_publishes_them_once(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    outage = Outage(bus)
    relay = OutboxRelay(outage, store.outbox, clock=LiveClock())
    await relay.start()
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)

    await relay.deliver(messages)
    assert relay.stats.failed == 1
    assert len(await store.outbox.pending()) == 2

    outage.up = True
    assert await relay.recover() == 2
    await bus.drain()
    await relay.stop()

    assert [e.event_id for e in seen] == [m.event.event_id for m in messages]
    assert await store.outbox.pending() == []


async def test_a_stop_during_a_mark_still_marks_what_went_out(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    """The relay's loop is cancelled at stop; a mark it was writing must not be lost."""
    relay = OutboxRelay(bus, store.outbox, OutboxConfig(mark_interval=3600), clock=LiveClock())
    await relay.start()
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)
    await relay.deliver(messages)
    writing = asyncio.create_task(relay.flush_marks())
    await asyncio.sleep(0)  # the write has started
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    await relay.stop()
    assert await store.outbox.pending() == []


class LockedOutbox:
    """The real outbox repository, unreadable (a locked or unreachable store) while ``down``."""

    def __init__(self, inner: OutboxRepository) -> None:
        self.inner = inner
        self.down = False
        self.refused = 0

    async def pending(self, limit: int = 1000) -> list[StoredOutboxMessage]:
        if self.down:
            self.refused += 1
            raise StorageUnavailable("reading the outbox failed: database is locked")
        return await self.inner.pending(limit)

    async def mark_published(self, event_ids: Sequence[str], ts: int) -> int:
        return await self.inner.mark_published(event_ids, ts)

    async def purge_published(self, before_ts: int) -> int:
        return await self.inner.purge_published(before_ts)


async def test_the_sweep_outlives_a_storage_outage(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    outbox = LockedOutbox(store.outbox)
    config = OutboxConfig(mark_interval=0.01, sweep_interval=0.02, sweep_age=0.0)
    relay = OutboxRelay(bus, outbox, config, clock=LiveClock())
    await relay.start()
    outbox.down = True
    for _ in range(500):
        if outbox.refused >= 3:  # the sweep met the outage, more than once
            break
        await asyncio.sleep(0.01)
    assert outbox.refused >= 3
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)  # committed, never delivered
    outbox.down = False
    for _ in range(500):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.01)
    await bus.drain()
    await relay.stop()
    assert [e.event_id for e in seen] == [m.event.event_id for m in messages]


class StepClock:
    """A wall clock the test moves; ``sleep`` advances it at once instead of waiting."""

    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def timestamp_ns(self) -> int:
        return self.now_ns

    def utc_now(self) -> datetime:
        return ns_to_dt(self.now_ns)

    async def sleep(self, seconds: float) -> None:
        self.now_ns += int(seconds * 1_000_000_000)
        await asyncio.sleep(0)


async def test_rows_age_on_the_wall_clock_the_relay_is_given(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)  # stamped with wall time
    committed = time.time_ns()
    # An hour before the commit, the rows are not old enough to count as left behind...
    early = OutboxRelay(bus, store.outbox, clock=StepClock(committed - 3600 * 10**9))
    assert await early.recover(min_age=5.0) == 0
    # ...a minute after it, they are, though not a second of real time has passed.
    late = OutboxRelay(bus, store.outbox, clock=StepClock(committed + 60 * 10**9))
    assert await late.recover(min_age=5.0) == 2
    await bus.drain()
    assert [e.event_id for e in seen] == [m.event.event_id for m in messages]


class PurgeRecorder(LockedOutbox):
    def __init__(self, inner: OutboxRepository) -> None:
        super().__init__(inner)
        self.purged_before: list[int] = []

    async def purge_published(self, before_ts: int) -> int:
        self.purged_before.append(before_ts)
        return await self.inner.purge_published(before_ts)


async def test_the_loop_waits_and_purges_on_the_relay_clock(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    start = 1_800_000_000 * 10**9
    clock = StepClock(start)
    outbox = PurgeRecorder(store.outbox)
    config = OutboxConfig(mark_interval=100.0, sweep_interval=10**6, retention=3600.0)
    relay = OutboxRelay(bus, outbox, config, clock=clock)
    await relay.start()
    for _ in range(1000):
        if outbox.purged_before:
            break
        await asyncio.sleep(0)
    await relay.stop()
    # Purged after 600 s of the relay's clock (six waits of 100 s), keeping an hour of rows.
    assert outbox.purged_before[0] == start + 600 * 10**9 - 3600 * 10**9


class IdleClient:
    """An execution client the test never reaches: only the outbox is exercised."""

    venue = "paper"

    def set_report_handler(self, handler: object) -> None:
        pass


async def test_the_execution_service_ages_its_outbox_on_wall_time_not_trading_time(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    """A trading clock far ahead (a replay, market time) must not make fresh rows look old."""
    await store.orders.add(make_order(), outbox=order_messages())  # still on its way out
    trading = SimClock(4_000_000_000 * 10**9)  # the year 2096
    client = cast(ExecutionClient, IdleClient())
    service = OrderExecutionService(bus, trading, store.orders, client, {}, store.outbox)
    assert await service.relay.recover(min_age=5.0) == 0


async def test_the_execution_service_hands_its_wall_clock_to_the_outbox(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    await store.orders.add(make_order(), outbox=order_messages())
    later = StepClock(time.time_ns() + 60 * 10**9)
    client = cast(ExecutionClient, IdleClient())
    service = OrderExecutionService(
        bus, SimClock(0), store.orders, client, {}, store.outbox, wall_clock=later
    )
    assert await service.relay.recover(min_age=5.0) == 2


async def test_a_full_batch_of_published_ids_is_marked_without_the_loop(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    """A run that never yields (a backtest) must not keep every id, nor every row pending."""
    config = OutboxConfig(mark_interval=3600, mark_batch=2)
    relay = OutboxRelay(bus, store.outbox, config, clock=LiveClock())
    await relay.start()
    first, second = order_messages(), order_messages()
    await store.orders.add(make_order(), outbox=first[:1])
    await relay.deliver(first[:1])
    assert len(await store.outbox.pending()) == 1  # below the batch: waits for the loop
    await store.orders.add(make_order(), outbox=second[:1])
    await relay.deliver(second[:1])
    assert await store.outbox.pending() == []
    assert relay.stats.marked == 2
    await relay.stop()


class Pipelined(Outage):
    """A bus with several publishes on their way at once; refuses the ``refused``-th."""

    def __init__(self, bus: InProcessMessageBus, refused: int | None = None) -> None:
        super().__init__(bus)
        self.up = True
        self.refused = refused
        self.batches: list[int] = []

    async def publish_all(self, messages: Sequence[tuple[str, Event]]) -> list[BusError | None]:
        self.batches.append(len(messages))
        outcomes: list[BusError | None] = []
        for n, (topic, event) in enumerate(messages):
            if n == self.refused:
                outcomes.append(BusError("not acknowledged"))
                continue
            await self.bus.publish(topic, event)
            outcomes.append(None)
        return outcomes


async def test_a_pipelined_bus_gets_a_delivery_in_one_call_and_in_order(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    pipelined = Pipelined(bus)
    relay = OutboxRelay(pipelined, store.outbox, clock=LiveClock())
    await relay.start()
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)

    await relay.deliver(messages)
    await bus.drain()
    await relay.stop()

    assert pipelined.batches == [2] and pipelined.attempts == 0
    assert [e.event_id for e in seen] == [m.event.event_id for m in messages]
    assert await store.outbox.pending() == []


async def test_a_pipelined_refusal_leaves_it_and_what_follows_to_the_sweep(
    store: SqlStore, bus: InProcessMessageBus
) -> None:
    seen = collect(bus, topics.ORDERS_EVENTS, topics.ORDERS_PENDING)
    pipelined = Pipelined(bus, refused=0)
    relay = OutboxRelay(pipelined, store.outbox, clock=LiveClock())
    await relay.start()
    messages = order_messages()
    await store.orders.add(make_order(), outbox=messages)

    await relay.deliver(messages)
    assert relay.stats.failed == 1 and relay.stats.delivered == 0
    # The second was taken, but is not recorded as published: the sweep sends it again.
    await relay.flush_marks()
    assert len(await store.outbox.pending()) == 2
    pipelined.refused = None
    assert await relay.recover() == 2
    await bus.drain()
    await relay.stop()

    # The bus drops the second copy of the one taken the first time (by event id).
    assert [e.event_id for e in seen] == [messages[1].event.event_id, messages[0].event.event_id]
    assert await store.outbox.pending() == []
