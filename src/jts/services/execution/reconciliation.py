"""Reconciliation: what the venue says about an order we are unsure of.

The venue is the truth. Fills it reports that we have not recorded become
fill reports (recording is idempotent on the fill id), then its status. An
order the venue has never heard of was not placed: it is closed with that
reason, never resent.

Every report is stamped with ``now``, the clock's time; a clock still at 0 (a
simulation before its first bar) is refused, or the order would be closed "on
1970-01-01".
"""

from __future__ import annotations

from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.errors import BrokerError
from jts.domain.orders import Order
from jts.domain.reports import ExecutionReport
from jts.domain.reports import OrderStatusReport
from jts.ports import ExecutionClient

NOT_FOUND_REASON = "venue has no record of the order (found by reconciliation)"
_REJECTED_REASON = "rejected by the venue (found by reconciliation)"
_MODIFIED_REASON = "terms changed at the venue (found by reconciliation)"


async def reconcile_order(order: Order, client: ExecutionClient, now: int) -> list[ExecutionReport]:
    """Reports that bring ``order`` to the venue's view; empty when the venue can't be asked."""
    if now <= 0:
        raise ValueError(f"reconciling {order.client_order_id}: the clock has no time yet ({now})")
    try:
        venue = await client.query_order(order.client_order_id)
        fills = [
            f
            for f in await client.fills(order.created_ts)
            if f.client_order_id == order.client_order_id
        ]
    except BrokerError:
        return []
    reports: list[ExecutionReport] = []
    if venue is None and not fills:
        status = (
            OrderStatus.REJECTED
            if order.status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)
            else OrderStatus.CANCELED
        )
        return [ExecutionReport(order.client_order_id, status, now, reason=NOT_FOUND_REASON)]
    if venue is not None and venue.status is OrderStatus.REJECTED:
        # Never accepted, so never filled; ACCEPTED first would leave it open for good
        # (ACCEPTED -> REJECTED is not a legal move).
        return [
            ExecutionReport(
                order.client_order_id,
                OrderStatus.REJECTED,
                now,
                venue_order_id=venue.venue_order_id or None,
                reason=_REJECTED_REASON,
            )
        ]
    if order.status is OrderStatus.UNKNOWN or order.status is OrderStatus.SUBMITTED:
        reports.append(
            ExecutionReport(
                order.client_order_id,
                OrderStatus.ACCEPTED,
                now,
                venue_order_id=venue.venue_order_id if venue else None,
            )
        )
    for fill in sorted(fills, key=lambda f: f.ts):
        status = OrderStatus.PARTIALLY_FILLED
        reports.append(ExecutionReport(order.client_order_id, status, fill.ts, fill=fill))
    if venue is not None and venue.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        reports.append(ExecutionReport(order.client_order_id, venue.status, now))
    elif venue is not None and venue.status.is_open and _terms_differ(order, venue):
        # Modified at the venue while we were not listening (by us before a crash, or
        # by hand): the books take the venue's terms.
        reports.append(
            ExecutionReport(
                order.client_order_id,
                venue.status,
                now,
                venue_order_id=venue.venue_order_id or None,
                reason=_MODIFIED_REASON,
                price=venue.price if order.order_type is OrderType.LIMIT else None,
                quantity=venue.quantity,
            )
        )
    return reports


def _terms_differ(order: Order, venue: OrderStatusReport) -> bool:
    repriced = (
        order.order_type is OrderType.LIMIT
        and venue.price is not None
        and venue.price != order.price
    )
    return repriced or venue.quantity != order.quantity
