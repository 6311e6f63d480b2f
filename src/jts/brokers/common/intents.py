"""Order intents for venues that take no client order id (KIS, Creon).

Such a venue names an order only by its own number, which arrives in the answer
to the submit. If the answer is lost (timeout, dropped connection) the order may
or may not exist, and sending again could double it. So each intent is written
to an append-only journal, fsync'd, *before* it is sent, and bound to the
venue's number when the answer comes. An intent that never got its number is
resolved by matching the venue's own list of today's orders on instrument,
side, quantity, price and a time window; until then it is neither resent nor
given up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from jts.brokers.common.json_lines import JsonLines
from jts.domain.enums import Side
from jts.domain.reports import OrderStatusReport
from jts.domain.timestamps import NANOS_PER_SECOND

# Venue clocks tick in seconds (KIS ORD_TMD is HHMMSS): allow for that and for skew.
MATCH_BEFORE_NS = 5 * NANOS_PER_SECOND
MATCH_AFTER_NS = 120 * NANOS_PER_SECOND
# An unbound intent younger than this may simply not be listed by the venue yet.
RESOLVE_GRACE_NS = 20 * NANOS_PER_SECOND


@dataclass(frozen=True, slots=True)
class OrderIntent:
    client_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal | None  # None: market order
    sent_ns: int
    venue_order_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["side"] = self.side.value
        data["quantity"] = str(self.quantity)
        data["price"] = None if self.price is None else str(self.price)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderIntent:
        return cls(
            client_order_id=data["client_order_id"],
            instrument_id=data["instrument_id"],
            side=Side(data["side"]),
            quantity=Decimal(data["quantity"]),
            price=None if data["price"] is None else Decimal(data["price"]),
            sent_ns=int(data["sent_ns"]),
            venue_order_id=data.get("venue_order_id"),
        )


def matches(intent: OrderIntent, order: OrderStatusReport) -> bool:
    if order.instrument_id != intent.instrument_id or order.side is not intent.side:
        return False
    if order.quantity != intent.quantity:
        return False
    if intent.price is None:
        if order.price not in (None, Decimal(0)):
            return False
    elif order.price != intent.price:
        return False
    return intent.sent_ns - MATCH_BEFORE_NS <= order.ts <= intent.sent_ns + MATCH_AFTER_NS


def match_intent(
    intent: OrderIntent, venue_orders: Sequence[OrderStatusReport], claimed: set[str]
) -> OrderStatusReport | None:
    """The venue order this intent became: unclaimed, matching, nearest in time."""
    candidates = [o for o in venue_orders if o.venue_order_id not in claimed and matches(intent, o)]
    if not candidates:
        return None
    return min(candidates, key=lambda o: abs(o.ts - intent.sent_ns))


class IntentJournal:
    """Append-only JSON lines; the last line for a client order id wins.

    ``path=None`` keeps it in memory (tests, and venues whose orders never survive
    a restart anyway).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file = JsonLines(path, "order intent journal")
        self._by_client: dict[str, OrderIntent] = {}
        self._by_venue: dict[str, str] = {}
        for number, record in self._file.records():
            try:
                self._remember(OrderIntent.from_json(record))
            except (ValueError, KeyError, TypeError) as exc:
                raise self._file.damaged(number, exc) from exc

    def _remember(self, intent: OrderIntent) -> None:
        self._by_client[intent.client_order_id] = intent
        if intent.venue_order_id:
            self._by_venue[intent.venue_order_id] = intent.client_order_id

    def _append(self, intent: OrderIntent) -> None:
        self._file.append(intent.to_json())
        self._remember(intent)

    def get(self, client_order_id: str) -> OrderIntent | None:
        return self._by_client.get(client_order_id)

    def client_id_of(self, venue_order_id: str) -> str | None:
        return self._by_venue.get(venue_order_id)

    def claimed(self) -> set[str]:
        return set(self._by_venue)

    def unbound(self) -> list[OrderIntent]:
        return [i for i in self._by_client.values() if i.venue_order_id is None]

    def record(self, intent: OrderIntent) -> None:
        """Durably note the intent; call before the order leaves."""
        self._append(intent)

    def bind(
        self,
        client_order_id: str,
        venue_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
    ) -> OrderIntent:
        """Tie the intent to the venue's order number (again after a modify, with its terms).

        ``quantity`` is the order's new total after a modify lowered it.
        """
        intent = self._by_client[client_order_id]
        price = intent.price if price is None else price
        quantity = intent.quantity if quantity is None else quantity
        if (intent.venue_order_id, intent.price, intent.quantity) == (
            venue_order_id,
            price,
            quantity,
        ):
            return intent
        bound = replace(intent, venue_order_id=venue_order_id, price=price, quantity=quantity)
        self._append(bound)
        return bound

    def venue_ids_of(self, client_order_id: str) -> list[str]:
        """Every venue order number the intent has had (a modify gives a new one)."""
        return [v for v, c in self._by_venue.items() if c == client_order_id]
