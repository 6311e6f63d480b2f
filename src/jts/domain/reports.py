"""What a venue tells us: execution reports, order status reports and account state."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.enums import Side
from jts.domain.fills import Fill
from jts.domain.market import Bar
from jts.domain.market import Tick

# The reason a venue gives when a cancel was asked for (by anyone holding the API's key):
# a cancel for any other reason (IOC remainder, cash at fill, expiry) is the venue's own.
CANCELED_ON_REQUEST = "canceled on request"
# The reason on the report of a modify the venue accepted.
MODIFIED_ON_REQUEST = "modified on request"


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """A change the venue made to one of our orders.

    ``status`` is the order's state after the change; a report with a ``fill``
    is an execution (PARTIALLY_FILLED or FILLED). A modify the venue accepted
    carries the order's new terms in ``price`` and ``quantity`` (the total,
    filled included) and, where the venue renumbered it, the new ``venue_order_id``.
    """

    client_order_id: str
    status: OrderStatus
    ts: int
    venue_order_id: str | None = None
    reason: str | None = None
    fill: Fill | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderStatusReport:
    """An order as the venue sees it, for queries and reconciliation."""

    client_order_id: str | None
    venue_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal | None
    filled_quantity: Decimal
    avg_fill_price: Decimal | None
    status: OrderStatus
    ts: int


@dataclass(frozen=True, slots=True)
class AccountState:
    """Cash and holdings at the venue."""

    account: str
    currency: str
    cash: Decimal
    reserved_cash: Decimal
    positions: dict[str, Decimal] = field(default_factory=dict)

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.reserved_cash


@dataclass(frozen=True, slots=True)
class MarketDataBatch:
    """Everything a feed learned at one instant ``ts`` (UTC ns, when it became known)."""

    ts: int
    bars: tuple[Bar, ...] = ()
    ticks: tuple[Tick, ...] = ()
