"""``MemoryStore``: the attributes of ``SqlStore``, on tables in memory."""

from __future__ import annotations

import time
from collections.abc import Callable

from jts.ports.storage import BacktestRunRepository
from jts.ports.storage import FillRepository
from jts.ports.storage import OrderRepository
from jts.ports.storage import OutboxRepository
from jts.ports.storage import PositionRepository
from jts.ports.storage import StrategyRepository
from jts.storage.memory.backtests import MemoryBacktestRunRepository
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
    ``keep_published=False`` drops an outbox row once it is marked published instead
    of keeping it for inspection until the purge: a backtest has nobody to inspect it,
    and its rows (every event of every order) would otherwise grow with the run.
    """

    def __init__(
        self, *, wall_ns: Callable[[], int] = time.time_ns, keep_published: bool = True
    ) -> None:
        tables = Tables(wall_ns, keep_published=keep_published)
        # Typed as the ports, so mypy proves every repository still fits its port.
        self.orders: OrderRepository = MemoryOrderRepository(tables)
        self.fills: FillRepository = MemoryFillRepository(tables)
        self.positions: PositionRepository = MemoryPositionRepository(tables)
        self.strategies: StrategyRepository = MemoryStrategyRepository(tables)
        self.outbox: OutboxRepository = MemoryOutboxRepository(tables)
        self.backtest_runs: BacktestRunRepository = MemoryBacktestRunRepository()

    async def close(self) -> None:
        """Nothing to release; kept so composition code can close either store."""
