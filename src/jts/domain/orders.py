"""Orders and their state machine.

::

    NEW ──> SUBMITTED ──> ACCEPTED ──> PARTIALLY_FILLED ──> FILLED
     │          │            │               │
     │          ├────────────┴───────────────┴──> CANCELED | EXPIRED
     ├──────────┴──> REJECTED
     └ (any sent state) ──> UNKNOWN ──> (whatever the venue says it became)

UNKNOWN is the honest answer to a timeout or a dropped connection: it is not a
rejection, and it is resolved by asking the venue, never by sending again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.errors import InvalidOrder
from jts.domain.errors import InvalidStateTransition
from jts.domain.fills import Fill

S = OrderStatus
_SENT_OUTCOMES = frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.UNKNOWN})
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED}) | _SENT_OUTCOMES,
    S.ACCEPTED: _SENT_OUTCOMES,
    S.PARTIALLY_FILLED: _SENT_OUTCOMES,
    S.UNKNOWN: frozenset({S.ACCEPTED, S.REJECTED}) | _SENT_OUTCOMES - {S.UNKNOWN},
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


def new_order_id() -> str:
    return str(uuid.uuid4())


def new_client_order_id(prefix: str = "JTS") -> str:
    """A venue-safe id (letters and digits, 32 chars) chosen before the order is sent."""
    return f"{prefix}{uuid.uuid4().hex[: 32 - len(prefix)]}".upper()


@dataclass(slots=True)
class Order:
    """An order through its whole life; mutate it only through its methods."""

    instrument_id: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    created_ts: int
    broker: str
    strategy_id: str | None = None
    signal_id: str | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    order_id: str = field(default_factory=new_order_id)
    client_order_id: str = field(default_factory=new_client_order_id)
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    venue_order_id: str | None = None
    reason: str | None = None
    updated_ts: int = 0
    # Cash a market BUY spends, fees included (Binance ``quoteOrderQty``, Upbit
    # ``ord_type=price``): the venue works out the quantity at the fill price, so
    # ``quantity`` is only the sizing-time estimate until the fill fixes it.
    quote_quantity: Decimal | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidOrder(f"order quantity must be positive, got {self.quantity}")
        if self.quote_quantity is not None:
            if self.order_type is not OrderType.MARKET or self.side is not Side.BUY:
                raise InvalidOrder("only a market BUY can spend a cash amount (quote quantity)")
            if self.quote_quantity <= 0:
                raise InvalidOrder(f"quote quantity must be positive, got {self.quote_quantity}")
        if self.order_type is OrderType.LIMIT and (self.price is None or self.price <= 0):
            raise InvalidOrder("a limit order needs a positive price")
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise InvalidOrder("a market order carries no price")
        if self.updated_ts == 0:
            self.updated_ts = self.created_ts

    def __copy__(self) -> Order:
        """A shallow copy (every field is immutable) without ``__init__``'s checks again.

        ``copy.copy`` and ``dataclasses.replace`` cost several microseconds through the
        generic protocol; the order path copies an order for every stored change.
        """
        clone = Order.__new__(Order)
        clone.instrument_id = self.instrument_id
        clone.side = self.side
        clone.order_type = self.order_type
        clone.quantity = self.quantity
        clone.price = self.price
        clone.created_ts = self.created_ts
        clone.broker = self.broker
        clone.strategy_id = self.strategy_id
        clone.signal_id = self.signal_id
        clone.time_in_force = self.time_in_force
        clone.order_id = self.order_id
        clone.client_order_id = self.client_order_id
        clone.status = self.status
        clone.filled_quantity = self.filled_quantity
        clone.avg_fill_price = self.avg_fill_price
        clone.venue_order_id = self.venue_order_id
        clone.reason = self.reason
        clone.updated_ts = self.updated_ts
        clone.quote_quantity = self.quote_quantity
        return clone

    @property
    def leaves_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def can_transition(self, target: OrderStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def transition(self, target: OrderStatus, ts: int, reason: str | None = None) -> OrderStatus:
        """Move to ``target``; returns the previous status. Illegal moves raise."""
        if target not in TRANSITIONS[self.status]:
            raise InvalidStateTransition(self.order_id, self.status.value, target.value)
        previous = self.status
        self.status = target
        self.updated_ts = ts
        if reason is not None:
            self.reason = reason
        return previous

    def check_amendment(self, price: Decimal | None, quantity: Decimal | None) -> None:
        """Refuse a modify no venue could carry out; raises InvalidOrder saying why.

        ``quantity`` is the new total (filled plus working). Venues lower a working
        order's quantity but never raise it (KRX, and Binance's amend alike): more
        shares are a new order.
        """
        if price is None and quantity is None:
            raise InvalidOrder(f"{self.client_order_id}: a modify needs a new price or quantity")
        if self.quote_quantity is not None:
            raise InvalidOrder(
                f"{self.client_order_id}: an order that spends a cash amount cannot be modified"
            )
        if not self.is_open:
            raise InvalidOrder(
                f"{self.client_order_id}: cannot modify an order that is {self.status}"
            )
        if price is not None:
            if self.order_type is not OrderType.LIMIT:
                raise InvalidOrder(f"{self.client_order_id}: only a limit order's price can change")
            if price <= 0:
                raise InvalidOrder(
                    f"{self.client_order_id}: a limit price must be positive, got {price}"
                )
        if quantity is not None:
            if quantity > self.quantity:
                raise InvalidOrder(
                    f"{self.client_order_id}: a modify can lower the quantity ({self.quantity}) "
                    f"but not raise it to {quantity}; place a new order for more"
                )
            if quantity <= self.filled_quantity:
                raise InvalidOrder(
                    f"{self.client_order_id}: quantity {quantity} must stay above the "
                    f"{self.filled_quantity} already filled; cancel the rest instead"
                )
        if (price is None or price == self.price) and (
            quantity is None or quantity == self.quantity
        ):
            raise InvalidOrder(f"{self.client_order_id}: the modify changes nothing")

    def amend(self, price: Decimal | None, quantity: Decimal | None, ts: int) -> None:
        """Take the terms of a modify the venue accepted; the status does not change."""
        self.check_amendment(price, quantity)
        if price is not None:
            self.price = price
        if quantity is not None:
            self.quantity = quantity
        self.updated_ts = ts

    def apply_fill(self, fill: Fill) -> OrderStatus:
        """Account for ``fill``; returns the previous status.

        An order spending a cash amount is done with its first execution: the venue
        spent what it could at that price, so the quantity becomes what it bought.
        """
        if self.quote_quantity is not None and self.filled_quantity == 0:
            if S.FILLED not in TRANSITIONS[self.status]:
                raise InvalidStateTransition(self.order_id, self.status.value, S.FILLED.value)
            self.quantity = fill.quantity
        if fill.quantity > self.leaves_quantity:
            raise InvalidOrder(
                f"order {self.order_id}: fill of {fill.quantity} exceeds "
                f"remaining {self.leaves_quantity}"
            )
        target = S.FILLED if fill.quantity == self.leaves_quantity else S.PARTIALLY_FILLED
        if target not in TRANSITIONS[self.status]:
            # Refused before anything is counted: a finished order keeps its quantities.
            raise InvalidStateTransition(self.order_id, self.status.value, target.value)
        notional = (self.avg_fill_price or Decimal(0)) * self.filled_quantity
        self.filled_quantity += fill.quantity
        self.avg_fill_price = (notional + fill.price * fill.quantity) / self.filled_quantity
        return self.transition(target, fill.ts)
