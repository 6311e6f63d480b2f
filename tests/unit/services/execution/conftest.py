"""The ``desk`` fixture: an order execution service on real parts (see order_desk.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from order_desk import Desk
from order_desk import FlakyLink
from order_desk import build_service
from order_desk import paper_venue
from order_desk import seoul

from jts.bus.inprocess import InProcessMessageBus
from jts.core.clocks import SimClock
from jts.storage.halts import FileHaltStore
from jts.storage.sql.repositories import SqlStore


@pytest.fixture
async def desk(store: SqlStore, bus: InProcessMessageBus, tmp_path: Path) -> AsyncIterator[Desk]:
    clock = SimClock(seoul(9, 1))
    venue = paper_venue(clock)
    link = FlakyLink(venue.execution)
    halts = FileHaltStore(tmp_path / "data")
    service = build_service(bus, clock, store, link, halts)
    await service.start()
    try:
        yield Desk(clock, bus, store, venue, link, service, halts)
    finally:
        await bus.drain()
        await service.stop()
