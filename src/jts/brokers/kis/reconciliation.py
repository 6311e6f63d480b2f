"""Which of today's KIS orders are ours, and what each amounts to.

KIS takes no client order id and lists every order number as a row of its own
(``inquire-daily-ccld``), so the journal is the only link from a client order id
to KIS's numbers. Here that link is kept up from the inquiry: an intent whose
answer was lost is matched to the order it became, a number a modify made
elsewhere (a restarted process, the HTS) is bound to the order it came from,
and the order's rows are folded into one view. Pure over the journal and the
rows: no request is sent here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from jts.brokers.common.intents import RESOLVE_GRACE_NS
from jts.brokers.common.intents import IntentJournal
from jts.brokers.common.intents import OrderIntent
from jts.brokers.common.intents import match_intent
from jts.brokers.kis.parsing import dec
from jts.domain.enums import OrderStatus
from jts.domain.errors import BrokerUnavailable
from jts.domain.reports import OrderStatusReport

log = logging.getLogger("jts.brokers.kis")

DONE = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


def resolve_unbound(
    journal: IntentJournal, intent: OrderIntent, today: list[OrderStatusReport], now: int
) -> OrderStatusReport | None:
    """The order an unanswered submit became, bound in the journal; None if never placed.

    Within the grace period KIS may simply not list it yet: no verdict, so
    BrokerUnavailable (ask again), never None.
    """
    found = match_intent(intent, today, journal.claimed())
    if found is None:
        if now - intent.sent_ns < RESOLVE_GRACE_NS:
            raise BrokerUnavailable(
                f"{intent.client_order_id}: not listed by KIS yet; ask again shortly"
            )
        return None
    log.warning(
        "%s resolved by matching: KIS order %s", intent.client_order_id, found.venue_order_id
    )
    journal.bind(intent.client_order_id, found.venue_order_id)
    return replace(found, client_order_id=intent.client_order_id)


def follow_modifies(
    journal: IntentJournal, rows: list[dict[str, Any]]
) -> Iterator[tuple[str, OrderIntent]]:
    """Bind each number a modify gave one of our orders that the journal does not know.

    A modify made by another process sharing the journal, or by hand in the HTS,
    shows up as a row whose ``orgn_odno`` is the order's current number: the same
    order, so its fills and its end belong to it. Rows come oldest first, so a
    chain of modifies is followed in order. Yields (the old number, the intent
    bound to the new one).
    """
    for row in rows:
        odno = str(row.get("odno", "")).strip()
        origin = str(row.get("orgn_odno", "")).strip()
        if not origin or not odno or journal.client_id_of(odno):
            continue
        client_id = journal.client_id_of(origin)
        intent = journal.get(client_id) if client_id else None
        if intent is None or intent.venue_order_id != origin:
            continue
        price = dec(row.get("ord_unpr"), "ord_unpr")
        bound = journal.bind(intent.client_order_id, odno, price=price or intent.price)
        log.warning(
            "%s: KIS order %s was modified into %s elsewhere; following it",
            intent.client_order_id,
            origin,
            odno,
        )
        yield origin, bound


def combined(
    journal: IntentJournal, intent: OrderIntent, today: list[OrderStatusReport]
) -> OrderStatusReport | None:
    """The order as the platform knows it, across every number KIS gave it.

    A modify's row counts only what filled under the new number, and a partial
    cancel leaves ``ord_qty`` as it was (the cut is in ``cnc_cfrm_qty``); the
    journal holds the order's total. None when KIS does not list the current number.
    """
    numbers = set(journal.venue_ids_of(intent.client_order_id))
    rows = [r for r in today if r.venue_order_id in numbers]
    current = next((r for r in rows if r.venue_order_id == intent.venue_order_id), None)
    if current is None:
        return None
    filled = sum((r.filled_quantity for r in rows), Decimal(0))
    amount = sum((r.filled_quantity * (r.avg_fill_price or 0) for r in rows), Decimal(0))
    status = current.status
    if filled >= intent.quantity:
        status = OrderStatus.FILLED
    elif status not in DONE:
        status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED
    elif status is OrderStatus.FILLED:
        status = OrderStatus.PARTIALLY_FILLED  # filled under this number, not in total
    return replace(
        current,
        client_order_id=intent.client_order_id,
        quantity=intent.quantity,
        filled_quantity=filled,
        avg_fill_price=amount / filled if filled > 0 else None,
        status=status,
    )


def working_orders(
    journal: IntentJournal, today: list[OrderStatusReport]
) -> list[OrderStatusReport]:
    """Today's open orders, ours folded into one view each (by their current number)."""
    working = []
    for row in today:
        report: OrderStatusReport | None = row
        intent = journal.get(row.client_order_id or "")
        if intent is not None and intent.venue_order_id:
            if row.venue_order_id != intent.venue_order_id:
                continue  # a number the order had before a modify
            report = combined(journal, intent, today)
        if report is not None and report.status not in DONE:
            working.append(report)
    return working
