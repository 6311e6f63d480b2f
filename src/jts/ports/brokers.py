"""The two ports every venue implements: market data and execution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol
from typing import runtime_checkable

from jts.domain.fills import Fill
from jts.domain.instruments import Instrument
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import AccountState
from jts.domain.reports import ExecutionReport
from jts.domain.reports import MarketDataBatch
from jts.domain.reports import OrderStatusReport

ReportHandler = Callable[[ExecutionReport], Awaitable[None]]


class MarketDataClient(Protocol):
    venue: str

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def instruments(self) -> list[Instrument]:
        """Every instrument this client can give data for."""
        ...

    async def latest_price(self, instrument_id: str) -> Decimal | None:
        """The last traded price, or None if nothing traded yet."""
        ...

    async def historical_bars(
        self, instrument_id: str, start_ns: int, end_ns: int, timeframe: Timeframe
    ) -> list[Bar]:
        """Bars with ``start_ns <= ts < end_ns``, oldest first."""
        ...

    def stream(self) -> AsyncIterator[MarketDataBatch]:
        """Live data, one batch per instant, until the feed ends or is disconnected."""
        ...


class ExecutionClient(Protocol):
    venue: str

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    def set_report_handler(self, handler: ReportHandler) -> None:
        """Where the client delivers execution reports (acks, rejects, fills, expiries)."""
        ...

    async def submit_order(self, order: Order) -> None:
        """Send ``order``; the outcome arrives as execution reports.

        Raises a BrokerError subclass when the venue could not be asked; the
        caller then marks the order UNKNOWN and reconciles, it never resends blindly.
        """
        ...

    async def cancel_order(self, order: Order) -> None: ...

    async def modify_order(
        self, order: Order, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        """Move a working limit order to ``price`` and/or lower its total ``quantity``.

        ``quantity`` counts what is already filled, so it must stay above
        ``order.filled_quantity``; a venue only lowers it. The order keeps its
        ``client_order_id`` when the venue gives it a new number: the venue's
        answer is an ExecutionReport with the order's unchanged status, its new
        ``price``/``quantity`` and its current ``venue_order_id``, and later fills
        and cancels follow that. A change the venue cannot make (a market order's
        price, an off-ladder price, more shares, nothing changed) raises
        InvalidOrder before anything is sent; a refusal by the venue raises
        OrderRejectedByVenue and the order works on unchanged; OutcomeUnknown
        means only reconciliation can tell.
        """
        ...

    async def query_order(self, client_order_id: str) -> OrderStatusReport | None: ...

    async def open_orders(self) -> list[OrderStatusReport]: ...

    async def fills(self, since_ns: int) -> list[Fill]:
        """Executions since ``since_ns``, for reconciliation."""
        ...

    async def account(self) -> AccountState: ...


@runtime_checkable
class CatchesUp(Protocol):
    """An execution client whose reports arrive by polling: it can fetch what is there now."""

    async def catch_up(self) -> None:
        """Hand every report the venue holds now to the report handler."""
        ...
