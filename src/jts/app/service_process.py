"""The parts every ``jts serve`` process is built from: its shape, checks, timers.

Kept apart from ``processes`` (which builds each service) so that a builder living in
its own module, such as ``live_feed``, can use them without a circular import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from fastapi import FastAPI

from jts.app.health import Check
from jts.bus.kafka import KafkaMessageBus
from jts.core.component import Component
from jts.domain.errors import JtsError
from jts.services.kernel import MarketDataCollector
from jts.storage.bar_journal import FileBarJournal
from jts.storage.clickhouse.store import ClickHouseBarStore
from jts.storage.sql.repositories import SqlStore

log = logging.getLogger("jts.serve")

Foreground = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
Closer = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class ServiceProcess:
    """One service's parts, in start order; the bus is started first and stopped last."""

    name: str
    bus: KafkaMessageBus
    components: list[Component]
    checks: dict[str, Check]
    stats: Callable[[], Mapping[str, Any]]
    foreground: Foreground | None = None
    closers: list[Closer] = field(default_factory=list)
    # The paper venue serves its own API on the health port (it has /health too).
    api: FastAPI | None = None


# -- checks ----------------------------------------------------------------------------------


def bus_check(bus: KafkaMessageBus) -> Check:
    async def check() -> str | None:
        health = await bus.health()
        if not health.broker_reachable:
            return f"no Kafka broker answers at {bus.config.bootstrap_servers}"
        down = [name for name, running in health.groups.items() if not running]
        return f"consumer groups not running: {', '.join(down)}" if down else None

    return check


def sql_check(sql: SqlStore) -> Check:
    async def check() -> str | None:
        await sql.strategies.list()
        return None

    return check


def store_check(store: ClickHouseBarStore) -> Check:
    async def check() -> str | None:
        await store.latest_bars([])
        return None

    return check


def collector_stats(
    collector: MarketDataCollector, bus: KafkaMessageBus, progress: Mapping[str, Any]
) -> Callable[[], Mapping[str, Any]]:
    def stats() -> Mapping[str, Any]:
        s = collector.stats
        return {
            **progress,
            "bars": s.bars,
            "ticks": s.ticks,
            "stored": s.stored,
            "quarantined": s.quarantined,
            "published": bus.published,
        }

    return stats


def closing(journal: FileBarJournal) -> Closer:
    async def close() -> None:
        journal.close()

    return close


# -- small components ------------------------------------------------------------------------


class Periodic(Component):
    """Runs ``action`` every ``interval`` seconds; a failure is logged, not fatal."""

    def __init__(self, name: str, interval: float, action: Callable[[], Awaitable[object]]) -> None:
        super().__init__(name)
        self._interval = interval
        self._action = action
        self._task: asyncio.Task[None] | None = None

    async def _on_start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _on_stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._action()
            except JtsError as exc:
                log.warning("%s failed: %s", self.name, exc)
