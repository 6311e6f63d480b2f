"""Signal to order on the wire costs one durable commit, and a crash after it sends nothing twice.

Commits are counted on the SQLite engine itself (transactions that wrote a row), and
on the batch path that runs a whole transaction in one driver call beside SQLAlchemy
(``storage/sql/batch.py``), at the moment the venue is handed each order, so the count
is what the write-ahead rule costs on the wire path, whatever the service's internals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from order_desk import SAMSUNG
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import build_service
from order_desk import paper_venue
from order_desk import seoul

from jts.brokers.paper.config import PaperConfig
from jts.brokers.paper.factory import build_paper_venue
from jts.bus.inprocess import InProcessMessageBus
from jts.core import topics
from jts.core.clocks import SimClock
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.events import OrderPending
from jts.domain.events import SignalEvent
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.signals import Signal
from jts.domain.signals import signal_id_for
from jts.ports import OutboxMessage
from jts.services.execution import OrderExecutionService
from jts.services.execution import SizingConfig
from jts.services.execution import client_order_id_for
from jts.services.execution.outbox import OutboxConfig
from jts.storage.sql import batch
from jts.storage.sql.repositories import SqlStore

S = OrderStatus
STOCKS = [krx_stock(f"0000{n}0", f"Stock {n}") for n in range(1, 6)]


class WriteCommits:
    """Commits of transactions that wrote (INSERT, UPDATE, DELETE) on ``store``'s engine."""

    def __init__(self, store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        run_in_thread = batch._sqlite_transaction

        def counted(*args: Any) -> list[int]:
            counts = run_in_thread(*args)  # returns only once committed
            self.count += 1
            return counts

        monkeypatch.setattr(batch, "_sqlite_transaction", counted)
        self._writing: set[int] = set()
        engine = store.engine.sync_engine
        sa.event.listen(engine, "before_cursor_execute", self._execute)
        sa.event.listen(engine, "commit", self._commit)
        sa.event.listen(engine, "rollback", self._rollback)

    def _execute(self, conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            self._writing.add(id(conn))

    def _commit(self, conn: sa.Connection) -> None:
        if id(conn) in self._writing:
            self._writing.discard(id(conn))
            self.count += 1

    def _rollback(self, conn: sa.Connection) -> None:
        self._writing.discard(id(conn))


async def test_a_signal_reaches_the_venue_after_exactly_one_commit(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = WriteCommits(desk.store, monkeypatch)
    at_the_wire: list[tuple[int, OrderStatus | None]] = []

    async def count(order: Order) -> None:
        stored = await desk.store.orders.get(order.order_id)
        at_the_wire.append((commits.count, None if stored is None else stored.status))

    desk.link.before_submit = count
    await desk.signal(Side.BUY, 70_000)

    # One commit, and in it the order already SUBMITTED: durable before the wire.
    assert at_the_wire == [(1, S.SUBMITTED)]
    order = await desk.only_order()
    assert order.status is S.ACCEPTED
    assert commits.count == 2  # the venue's ACCEPTED is the second


async def held_minute(
    store: SqlStore,
    link_hook: Callable[[FlakyLink], None] | None = None,
    released: Callable[[], None] | None = None,
) -> tuple[FlakyLink, OrderExecutionService]:
    """One BUY signal for each of STOCKS in one minute, held, then released as settle does."""
    clock = SimClock(seoul(9, 1))
    venue = build_paper_venue(
        clock,
        PaperConfig(starting_cash=Decimal(1_000_000_000)),
        instruments=STOCKS,
        source=[],
        reference_prices={stock.key: Decimal(10_000) for stock in STOCKS},
    )
    for stock in STOCKS:
        p = Decimal(10_000)
        venue.engine.on_bar(Bar(stock.key, Timeframe.M1, seoul(9, 0), p, p, p, p, Decimal(10**6)))
    link = FlakyLink(venue.execution)
    if link_hook is not None:
        link_hook(link)
    bus = InProcessMessageBus(lanes=4)
    service = OrderExecutionService(
        bus,
        clock,
        store.orders,
        link,
        {stock.key: stock for stock in STOCKS},
        store.outbox,
        SizingConfig(notional_per_order=Decimal(10_000_000)),
        # No background marking of published rows: only the order path's commits count.
        outbox_config=OutboxConfig(mark_interval=3600.0),
    )
    service.hold_signals = True
    await bus.start()
    await service.start()
    try:
        for stock in reversed(STOCKS):
            signal = Signal("s", stock.key, Side.BUY, TS, Decimal(10_000), signal_id=sid(stock.key))
            await bus.publish(topics.SIGNALS, SignalEvent.from_signal(signal, ts=TS, source="t"))
        await bus.drain()
        while await service.release_signals():
            await bus.drain()
        if released is not None:
            released()
    finally:
        await service.stop()
        await bus.stop()
    return link, service


TS = seoul(9, 1)


def sid(instrument_id: str) -> str:
    return signal_id_for("s", instrument_id, "BUY", TS)


async def test_a_minute_of_held_signals_costs_one_commit_to_send_and_one_for_the_answers(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = WriteCommits(store, monkeypatch)
    after: list[int] = []
    at_the_wire: list[tuple[str, int]] = []
    stored_first: list[OrderStatus] = []

    async def count(order: Order) -> None:
        if not at_the_wire:
            stored_first.extend(o.status for o in await store.orders.list())
        at_the_wire.append((order.instrument_id, commits.count))

    def hook(link: FlakyLink) -> None:
        link.before_submit = count

    await held_minute(store, hook, lambda: after.append(commits.count))

    # Five orders, one commit for all of them before the first send, sent in the defined
    # (instrument) order with no commit in between; the venue's five ACCEPTED, answered
    # inside the submit calls, are stored afterwards in one more commit.
    assert at_the_wire == [(stock.key, 1) for stock in STOCKS]
    assert after == [2]
    assert stored_first == [S.SUBMITTED] * 5
    orders = await store.orders.list()
    assert sorted(o.status for o in orders) == [S.ACCEPTED] * 5
    for order in orders:
        assert [t for _, t, _ in await store.orders.audit_trail(order.order_id)] == [
            S.NEW,
            S.SUBMITTED,
            S.ACCEPTED,
        ]


async def test_a_signal_seen_before_leaves_the_rest_of_its_minute_to_be_placed(
    store: SqlStore,
) -> None:
    # The third stock's signal became an order in an earlier life, finished since (so
    # not open, not known in memory): only the store's unique client order id knows.
    earlier = Order(
        STOCKS[2].key,
        Side.BUY,
        OrderType.LIMIT,
        Decimal(1),
        Decimal(10_000),
        TS - 60_000_000_000,
        "paper",
        signal_id=sid(STOCKS[2].key),
        client_order_id=client_order_id_for(sid(STOCKS[2].key)),
    )
    await store.orders.add(earlier)
    previous = earlier.transition(S.REJECTED, TS - 1, "earlier life")
    assert await store.orders.save_transition(earlier, previous, reason="earlier life")

    link, service = await held_minute(store)

    others = [stock.key for stock in STOCKS if stock.key != STOCKS[2].key]
    assert [o.instrument_id for o in await link.open_orders()] == others
    assert service.stats.skipped == {"duplicate signal": 1}
    assert service.stats.orders == 4
    assert [o.status for o in service.open_orders] == [S.ACCEPTED] * 4
    stored = await store.orders.get_by_client_id(earlier.client_order_id)
    assert stored is not None and stored.status is S.REJECTED  # the stored order stands


class Crash(Exception):
    """The process dies here: the submit call never leaves."""


async def test_a_crash_between_the_commit_and_the_send_sends_nothing_twice(desk: Desk) -> None:
    async def die(order: Order) -> None:
        raise Crash(order.client_order_id)

    desk.link.before_submit = die
    signal_id = str(uuid.uuid4())
    await desk.signal(Side.BUY, 70_000, signal_id=signal_id)
    assert [f.error for f in desk.bus.failed] == [repr(Crash(client_order_id_for(signal_id)))]
    stored = await desk.only_order()
    assert stored.status is S.SUBMITTED  # durable, and never reached the venue
    assert desk.link.sent == []
    assert desk.venue.engine.orders() == []
    await desk.service.stop()

    # The next process: same store and venue; the signal is delivered again (at least once).
    bus = InProcessMessageBus()
    link = FlakyLink(desk.venue.execution)
    restarted = build_service(bus, desk.clock, desk.store, link)
    await bus.start()
    try:
        await restarted.start()  # reconciliation asks the venue, which never heard of it
        await bus.publish(
            topics.SIGNALS,
            SignalEvent.from_signal(
                Signal(
                    "test-strategy",
                    SAMSUNG,
                    Side.BUY,
                    desk.clock.timestamp_ns(),
                    Decimal(70_000),
                    reason="test",
                    signal_id=signal_id,
                ),
                ts=desk.clock.timestamp_ns(),
                source="test",
            ),
        )
        await bus.drain()
    finally:
        await restarted.stop()
        await bus.stop()

    order = await desk.only_order()
    assert order.status is S.REJECTED
    assert order.reason is not None and "no record" in order.reason
    assert link.sent == []
    assert desk.venue.engine.orders() == []
    assert restarted.open_orders == []
    assert restarted.stats.skipped == {"duplicate signal": 1}


async def test_an_order_stranded_submitted_by_a_crash_is_not_resent_by_the_router(
    store: SqlStore,
) -> None:
    # The crash left it SUBMITTED and its orders.pending unpublished: the outbox relay
    # publishes that at the next start, and the router must leave a SUBMITTED order be.
    clock = SimClock(seoul(9, 1))
    venue = paper_venue(clock)
    link = FlakyLink(venue.execution)
    order = Order(
        SAMSUNG,
        Side.BUY,
        OrderType.LIMIT,
        Decimal(10),
        Decimal(60_000),
        clock.timestamp_ns(),
        "paper",
    )
    pending = OrderPending.from_order(order, ts=clock.timestamp_ns(), source="test")
    order.transition(S.SUBMITTED, clock.timestamp_ns())
    await store.orders.add_submitted([(order, [OutboxMessage(topics.ORDERS_PENDING, pending)])])

    bus = InProcessMessageBus()
    service = build_service(bus, clock, store, link)
    await bus.start()
    try:
        await service.start()  # the relay publishes the left-over orders.pending
        await bus.drain()
    finally:
        await service.stop()
        await bus.stop()

    assert link.sent == []
    stored = await store.orders.get(order.order_id)
    assert stored is not None and stored.status is S.REJECTED
