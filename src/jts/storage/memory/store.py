"""``MemoryStore``: the attributes of ``SqlStore``, on tables in memory."""

from __future__ import annotations

import time
from collections.abc import Callable

from jts.storage.memory.orders import MemoryFillRepository
from jts.storage.memory.orders import MemoryOrderRepository
from jts.storage.memory.outbox import MemoryOutboxRepository
from jts.storage.memory.records import MemoryPositionRepository
from jts.storage.memory.records import MemoryStrategyRepository
from jts.storage.memory.tables import Tables


class MemoryStore:
    """The relational store's repositories on one set of tables in memory.

    ``wall_ns`` stamps outbox rows (``created_ts``), wall-clock time as in SQL; a
    simulation whose relay compares that with its own clock passes the clock's.
    """

    def __init__(self, *, wall_ns: Callable[[], int] = time.time_ns) -> None:
        tables = Tables(wall_ns)
        self.orders = MemoryOrderRepository(tables)
        self.fills = MemoryFillRepository(tables)
        self.positions = MemoryPositionRepository(tables)
        self.strategies = MemoryStrategyRepository(tables)
        self.outbox = MemoryOutboxRepository(tables)

    async def close(self) -> None:
        """Nothing to release; kept so composition code can close either store."""
