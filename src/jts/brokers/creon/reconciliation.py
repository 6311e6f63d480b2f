"""Which Creon orders are ours: unbound intents, chains of order numbers, one status per order.

Creon takes no client order id: an order is named only by the number in the
answer to the submit. An intent whose answer was lost is resolved by matching
today's orders at Creon on instrument, side, quantity, price and time
(``match_intent``), never by sending again.

A price modify (ours through CpTd0313, or one made by hand in the HTS) gives
the remaining quantity a new order number whose original order number
(``orig_order_no``) is the one it replaced; what filled stays under the old
number. So an order is a chain of numbers: the intent journal binds every new
number to the same client order id (the last bound is the working one), from
events as they come and from look-ups after a restart, and a status report
adds up the whole chain.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from pydantic import TypeAdapter

from jts.brokers.common.intents import RESOLVE_GRACE_NS
from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.common.intents import match_intent
from jts.brokers.creon.http import BridgeClient
from jts.brokers.creon.parsing import status_of
from jts.brokers.creon.schemas import OrderOut
from jts.domain.enums import OrderStatus
from jts.domain.errors import BrokerUnavailable
from jts.domain.reports import OrderStatusReport
from jts.domain.timestamps import NANOS_PER_DAY

log = logging.getLogger("jts.brokers.creon")

_ORDERS = TypeAdapter(list[OrderOut])
_WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


def orig_of(order: OrderOut) -> str | None:
    """The number ``order`` replaced (a modify), if any."""
    return order.orig_order_no or None


def follow(
    journal: IntentJournal, order_no: str, orig_order_no: str | None, price: Decimal | None
) -> str | None:
    """The client order id of ``order_no``; a new number replacing a known one joins its chain."""
    cid = journal.client_id_of(order_no)
    if cid is not None or not orig_order_no:
        return cid
    cid = journal.client_id_of(orig_order_no)
    if cid is not None:
        journal.bind(cid, order_no, price=price)
        log.info("creon: %s is now order %s (was %s)", cid, order_no, orig_order_no)
    return cid


def link(journal: IntentJournal, orders: Iterable[OrderOut]) -> None:
    """Bind every number in ``orders`` that replaced one of ours, oldest first."""
    replaced_by = {orig: o for o in orders if (orig := orig_of(o)) is not None}
    for start in list(replaced_by):
        if journal.client_id_of(start) is None:
            continue  # not ours, or a later number of a chain: walked from its first
        number: str | None = start
        seen: set[str] = set()
        while number is not None and number in replaced_by and number not in seen:
            seen.add(number)
            new = replaced_by[number]
            follow(journal, new.order_no, number, new.price)
            number = new.order_no


def chain_report(
    client_order_id: str, current: str, members: Sequence[OrderOut]
) -> OrderStatusReport | None:
    """One status for the numbers an order has had: all their fills, what is still open.

    ``quantity`` is the order's total as it stands (filled plus still open); the
    price and the status are the working number's (``current``).
    """
    if not members:
        return None
    head = next((o for o in members if o.order_no == current), members[-1])
    filled = sum(o.filled_quantity for o in members)
    paid = sum(
        (o.avg_fill_price * o.filled_quantity for o in members if o.avg_fill_price is not None),
        Decimal(0),
    )
    working = [o for o in members if o.status in _WORKING and o.open_quantity > 0]
    open_quantity = sum(o.open_quantity for o in working)
    if working:
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED
        quantity = filled + open_quantity
    else:
        status = head.status
        quantity = head.quantity + sum(o.filled_quantity for o in members if o is not head)
    report = status_of(head, client_order_id)
    return replace(
        report,
        quantity=Decimal(quantity),
        filled_quantity=Decimal(filled),
        avg_fill_price=(paid / filled) if filled else None,
        status=status,
        ts=min(o.ts for o in members),
    )


class CreonReconciler:
    """Look-ups of today's orders, read against the intent journal."""

    def __init__(
        self,
        bridge: BridgeClient,
        journal: IntentJournal,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.bridge = bridge
        self.journal = journal
        self._clock = clock

    async def today(self) -> list[OrderOut]:
        """Every number Creon gave today (old and new), with replaced ones chained to ours."""
        rows = await self.bridge.get_list(_ORDERS, "/orders")
        link(self.journal, rows)
        return rows

    async def open(self) -> list[OrderOut]:
        rows = await self.bridge.get_list(_ORDERS, "/orders", params={"open": "true"})
        link(self.journal, rows)
        return rows

    def report(self, client_order_id: str, rows: Sequence[OrderOut]) -> OrderStatusReport | None:
        intent = self.journal.get(client_order_id)
        if intent is None or intent.venue_order_id is None:
            return None
        numbers = set(self.journal.venue_ids_of(client_order_id))
        members = [o for o in rows if o.order_no in numbers]
        return chain_report(client_order_id, intent.venue_order_id, members)

    def reports(self, rows: Sequence[OrderOut]) -> list[OrderStatusReport]:
        """One report per order: ours by client order id (a chain is one), others by number."""
        out: list[OrderStatusReport] = []
        done: set[str] = set()
        for row in rows:
            cid = self.journal.client_id_of(row.order_no)
            if cid is None:
                out.append(status_of(row, None))
            elif cid not in done:
                done.add(cid)
                report = self.report(cid, rows)
                if report is not None:
                    out.append(report)
        return out

    async def resolve(self, intent: OrderIntent) -> OrderStatusReport | None:
        """Find the Creon order an unbound intent became, and bind it."""
        today = await self.today()
        current = self.journal.get(intent.client_order_id)
        if current is not None and current.venue_order_id:
            # Bound while we asked (the event poller matched it first).
            return self.report(intent.client_order_id, today)
        found = match_intent(intent, self._placements(today), self.journal.claimed())
        if found is None:
            if self._clock() - intent.sent_ns < RESOLVE_GRACE_NS:
                raise BrokerUnavailable(
                    f"creon: {intent.client_order_id} not listed by Creon yet; ask again shortly"
                )
            return None
        assert found.venue_order_id is not None
        self.journal.bind(intent.client_order_id, found.venue_order_id)
        log.warning(
            "creon: %s resolved by matching to order %s",
            intent.client_order_id,
            found.venue_order_id,
        )
        link(self.journal, today)  # and whatever it became since
        return self.report(intent.client_order_id, today)

    async def resolve_unbound(self, skip: set[str]) -> None:
        """Match every recent unbound intent not in ``skip`` (refused, provably unsent)."""
        recent = self._clock() - NANOS_PER_DAY
        pending = [
            i
            for i in self.journal.unbound()
            if i.sent_ns > recent and i.client_order_id not in skip
        ]
        if not pending:
            return
        today = await self.today()
        placements = self._placements(today)
        for intent in sorted(pending, key=lambda i: i.sent_ns):
            found = match_intent(intent, placements, self.journal.claimed())
            if found is not None and found.venue_order_id is not None:
                self.journal.bind(intent.client_order_id, found.venue_order_id)
        link(self.journal, today)

    @staticmethod
    def _placements(rows: Sequence[OrderOut]) -> list[OrderStatusReport]:
        """Orders as placed (not the numbers a modify made), to match intents against."""
        return [status_of(o, None) for o in rows if orig_of(o) is None]
