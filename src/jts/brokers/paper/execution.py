"""The paper venue's ExecutionClient: the shared MatchingEngine behind the broker port.

Reports leave through one outbox drained by whichever call is delivering, so
they reach the handler in exactly the order the engine produced them, even
when the handler itself submits an order (that submit queues its reports and
returns; the delivering call sends them after the current one).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from jts.domain.errors import ConfigurationError
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Tick
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.domain.reports import OrderStatusReport
from jts.ports.brokers import ReportHandler
from jts.ports.clock import Clock
from jts.sim.matching import MatchingEngine


class PaperExecutionClient:
    """Simulated order execution; feed it market data with ``on_bar``/``on_tick``/``on_batch``."""

    def __init__(self, engine: MatchingEngine, clock: Clock, venue: str = "paper") -> None:
        self.venue = venue
        self.engine = engine
        self._clock = clock
        self._handler: ReportHandler | None = None
        self._outbox: deque[ExecutionReport] = deque()
        self._delivering = False
        self.connected = False

    async def connect(self) -> None:
        self.connected = True

    async def disconnect(self) -> None:
        self.connected = False

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    # -- orders ----------------------------------------------------------------------------

    async def submit_order(self, order: Order) -> None:
        """Accept or reject now (at the clock's time); fills come with later market data.

        Sending a ``client_order_id`` again never places a second order: the
        existing order's state is reported again.
        """
        self._require_handler()
        await self._deliver(self.engine.submit(order, self._clock.timestamp_ns()))

    async def cancel_order(self, order: Order) -> None:
        """Cancel by ``client_order_id``; raises UnknownOrder if the venue never saw it."""
        self._require_handler()
        await self._deliver(self.engine.cancel(order.client_order_id, self._clock.timestamp_ns()))

    async def modify_order(
        self, order: Order, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        """Reprice and/or lower the quantity now; the engine refuses what KRX would refuse."""
        self._require_handler()
        reports = self.engine.modify(
            order.client_order_id, self._clock.timestamp_ns(), price=price, quantity=quantity
        )
        await self._deliver(reports)

    async def query_order(self, client_order_id: str) -> OrderStatusReport | None:
        order = self.engine.order(client_order_id)
        return None if order is None else status_report(order)

    async def open_orders(self) -> list[OrderStatusReport]:
        return [status_report(order) for order in self.engine.open_orders()]

    async def fills(self, since_ns: int) -> list[Fill]:
        return self.engine.fills(since_ns)

    async def account(self) -> AccountState:
        ledger = self.engine.account
        return AccountState(
            account=ledger.name,
            currency=ledger.currency,
            cash=ledger.cash,
            reserved_cash=ledger.reserved_cash,
            positions=ledger.positions(),
        )

    # -- market data in, reports out -------------------------------------------------------

    async def on_bar(self, bar: Bar) -> list[ExecutionReport]:
        """Match working orders against ``bar``; the reports are delivered and returned."""
        reports = self.engine.on_bar(bar)
        await self._deliver(reports)
        return reports

    async def on_tick(self, tick: Tick) -> list[ExecutionReport]:
        reports = self.engine.on_tick(tick)
        await self._deliver(reports)
        return reports

    async def on_batch(self, batch: MarketDataBatch) -> list[ExecutionReport]:
        """Every bar, then every tick, of one feed instant."""
        reports = self.match(batch)
        if reports:  # most minutes fill nothing
            await self._deliver(reports)
        return reports

    def match(self, batch: MarketDataBatch) -> list[ExecutionReport]:
        """``on_batch`` without delivering: a replay delivers only when something came of it."""
        bars, ticks = batch.bars, batch.ticks
        if len(bars) == 1 and not ticks:  # one symbol's minute
            return self.engine.on_bar(bars[0])
        reports: list[ExecutionReport] = []
        for bar in bars:
            reports += self.engine.on_bar(bar)
        for tick in ticks:
            reports += self.engine.on_tick(tick)
        return reports

    async def deliver(self, reports: list[ExecutionReport]) -> None:
        """Send reports ``match`` returned, in order (to the report handler, if any)."""
        await self._deliver(reports)

    async def end_of_session(self) -> list[ExecutionReport]:
        """Expire open DAY orders now (for callers that know the session ended)."""
        reports = self.engine.end_of_session(self._clock.timestamp_ns())
        await self._deliver(reports)
        return reports

    def _require_handler(self) -> ReportHandler:
        if self._handler is None:
            raise ConfigurationError(f"{self.venue}: set a report handler before trading")
        return self._handler

    async def _deliver(self, reports: list[ExecutionReport]) -> None:
        """Send ``reports`` in order; without a handler they are only returned to the caller."""
        if not reports or self._handler is None:
            return
        self._outbox.extend(reports)
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._outbox:
                await self._handler(self._outbox.popleft())
        finally:
            self._delivering = False


def status_report(order: Order) -> OrderStatusReport:
    return OrderStatusReport(
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id or "",
        instrument_id=order.instrument_id,
        side=order.side,
        quantity=order.quantity,
        price=order.price,
        filled_quantity=order.filled_quantity,
        avg_fill_price=order.avg_fill_price,
        status=order.status,
        ts=order.updated_ts,
    )
