"""What every venue harness offers the broker contract suite, and a report collector."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from jts.domain.enums import OrderStatus
from jts.domain.enums import TimeInForce
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.ports import ExecutionClient
from jts.ports import MarketDataClient


class VenueHarness(Protocol):
    """An adapter connected to its fake venue, with the fake's controls."""

    market: MarketDataClient
    execution: ExecutionClient
    instrument_id: str
    streamed: list[MarketDataBatch]  # batches the market client's stream produced

    async def set_price(self, price: Decimal) -> None:
        """The market trades at ``price``: crossing limit orders fill, the stream moves."""
        ...

    def tick(self) -> Decimal:
        """The instrument's price increment near the current price."""
        ...

    async def seed_history(self) -> tuple[int, int]:
        """Put one-minute history at the venue; returns a window that holds some of it."""
        ...

    # Times in force the venue cannot honour: a submit with one is REJECTED, naming it.
    unsupported_time_in_force: frozenset[TimeInForce]

    async def trade(self, price: Decimal, quantity: Decimal) -> None:
        """The market trades ``quantity`` at ``price``: crossing orders fill up to that much.

        What is left of a crossing order keeps working (PARTIALLY_FILLED).
        """
        ...

    def venue_order_count(self) -> int: ...

    async def new_execution_client(self) -> ExecutionClient:
        """A restarted order execution: a fresh, connected client over the same state."""
        ...


class Reports:
    """Execution reports as a handler receives them, with a way to wait for one."""

    def __init__(self) -> None:
        self.items: list[ExecutionReport] = []
        self._changed = asyncio.Event()

    async def __call__(self, report: ExecutionReport) -> None:
        self.items.append(report)
        self._changed.set()

    def of(self, client_order_id: str) -> list[ExecutionReport]:
        return [r for r in self.items if r.client_order_id == client_order_id]

    async def wait_for(
        self, client_order_id: str, status: OrderStatus, within: float = 10.0
    ) -> ExecutionReport:
        async def find() -> ExecutionReport:
            while True:
                for report in self.of(client_order_id):
                    if report.status is status:
                        return report
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), within)

    async def wait(
        self, matches: Callable[[ExecutionReport], bool], within: float = 10.0
    ) -> ExecutionReport:
        """The first report, delivered already or later, for which ``matches`` holds."""

        async def find() -> ExecutionReport:
            while True:
                for report in self.items:
                    if matches(report):
                        return report
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), within)
