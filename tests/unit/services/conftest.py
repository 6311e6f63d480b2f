"""Real parts for service tests: a migrated SQLite store, a started in-process bus, observers.

Bus handlers' exceptions are recorded by the bus, not raised; observers therefore
only record what they see, and tests assert afterwards (and check ``bus.failed``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable

import pytest

from jts.bus.inprocess import InProcessMessageBus
from jts.domain.events import Event
from jts.storage.sql.migrate import upgrade
from jts.storage.sql.repositories import SqlStore

Observe = Callable[[str], list[Event]]


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    upgrade(sqlite_url)
    opened = SqlStore.open(sqlite_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def bus() -> AsyncIterator[InProcessMessageBus]:
    started = InProcessMessageBus(queue_size=256, lanes=4)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
def observe(bus: InProcessMessageBus) -> Observe:
    """``observe(topic)``: every event on ``topic``, seen by a consumer group of its own."""

    def subscribe(topic: str) -> list[Event]:
        seen: list[Event] = []

        async def record(event: Event) -> None:
            seen.append(event)

        bus.subscribe(topic, record, group=f"test-observer-{topic}")
        return seen

    return subscribe
