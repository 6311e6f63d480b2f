"""A storage outage delays an order, never loses it (issue 9, point 3).

Another connection holds SQLite's write lock (``BEGIN EXCLUSIVE``) while a signal
arrives: the handler waits, with its event unacknowledged, and places the order
once the lock is gone; only a handler that runs out of patience gives its event
up, to a dead-letter file that ``list_dead_letters`` reads back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import build_service
from order_desk import paper_venue
from order_desk import seoul

from jts.bus.inprocess import InProcessMessageBus
from jts.core.clocks import SimClock
from jts.core.storage_retry import StorageRetry
from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.events import SignalEvent
from jts.storage.dead_letters import DeadLetterFile
from jts.storage.dead_letters import dead_letters_path
from jts.storage.dead_letters import list_dead_letters
from jts.storage.halts import FileHaltStore
from jts.storage.sql.engine import sqlite_path
from jts.storage.sql.repositories import SqlStore


@contextlib.contextmanager
def exclusive_lock(url: str) -> Iterator[None]:
    """The database's write lock, held by a connection of its own until the block ends."""
    path = sqlite_path(url)
    assert path is not None
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def test_a_twelve_second_lock_delays_the_order_and_it_is_placed_once(
    desk: Desk, sqlite_url: str
) -> None:
    started = time.monotonic()
    with exclusive_lock(sqlite_url):
        signal = asyncio.create_task(desk.signal(Side.BUY, 70_000))
        await asyncio.sleep(12)
        assert not signal.done(), "the signal was handled (or dropped) while the store was locked"
        assert await desk.store.orders.list() == []  # readers still see the store, empty
    await asyncio.wait_for(signal, timeout=30)
    assert time.monotonic() - started >= 12

    order = await desk.only_order()
    assert order.status is OrderStatus.ACCEPTED
    assert desk.link.sent == [order.client_order_id]
    assert [o.client_order_id for o in desk.venue.engine.orders()] == [order.client_order_id]
    assert not desk.bus.failed
    assert desk.service.stats.orders == 1


@pytest.fixture
async def impatient_desk(
    store: SqlStore, bus: InProcessMessageBus, tmp_path: Path
) -> AsyncIterator[Desk]:
    clock = SimClock(seoul(9, 1))
    venue = paper_venue(clock)
    link = FlakyLink(venue.execution)
    halts = FileHaltStore(tmp_path / "data")
    service = build_service(
        bus,
        clock,
        store,
        link,
        halts,
        storage_retry=StorageRetry(give_up_after=0.5, initial_wait=0.05, max_wait=0.2),
        dead_letters=DeadLetterFile(dead_letters_path(tmp_path / "data")),
    )
    await service.start()
    try:
        yield Desk(clock, bus, store, venue, link, service, halts)
    finally:
        await bus.drain()
        await service.stop()


async def test_a_handler_out_of_patience_parks_the_signal_as_a_dead_letter(
    impatient_desk: Desk, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desk = impatient_desk
    caplog.set_level(logging.ERROR, logger="jts.execution")
    with exclusive_lock(sqlite_url):
        sent = await asyncio.wait_for(desk.signal(Side.BUY, 70_000), timeout=30)

    assert await desk.store.orders.list() == []
    assert desk.link.sent == []
    letters = list_dead_letters(tmp_path / "data")
    assert len(letters) == 1
    letter = letters[0]
    assert letter.problem is None
    assert (letter.topic, letter.group) == ("signals", "order-execution")
    assert letter.event_id == sent.event_id
    assert "locked" in letter.reason
    assert letter.market_time is not None
    parked = letter.event()
    assert isinstance(parked, SignalEvent)
    assert parked.signal.signal_id == sent.signal.signal_id
    assert any("dead-lettered" in r.getMessage() for r in caplog.records)

    # The store is back: the signal handed in again from its dead letter is placed.
    await desk.bus.publish("signals", msgspec.structs.replace(parked, event_id=uuid.uuid4().hex))
    await desk.bus.drain()
    order = await desk.only_order()
    assert desk.link.sent == [order.client_order_id]


async def test_an_unreadable_dead_letter_line_is_listed_not_skipped(tmp_path: Path) -> None:
    path = dead_letters_path(tmp_path)
    path.write_text('{"torn": \n', encoding="utf-8")
    (record,) = list_dead_letters(tmp_path)
    assert record.line == 1
    assert record.problem is not None
    assert list_dead_letters(tmp_path / "nowhere") == []
