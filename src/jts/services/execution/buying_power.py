"""Buying power from our own books: the venue's cash less what our open buys reserve.

Sizing used to read the venue's *available* cash and subtract the buys the venue had
not yet accepted. That figure moves when the venue accepts an order, so two signals
sized across awaits got different cash depending on which order the venue had seen
first: the same inputs gave different orders. Here every open BUY of ours reserves,
in our own ledger, its unfilled quantity at its limit (a market order: the reference
price it was sized at, plus the venue's market buffer) plus a fee margin, from the
moment it is sized until it is finished, whatever the venue has done with it yet.
The venue's total cash moves only with fills, so buying power does not depend on
scheduling. The venue's available cash still caps it: cash someone else's orders
reserved at the venue cannot be ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from jts.domain.enums import Side
from jts.domain.orders import Order
from jts.domain.reports import AccountState

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ReserveRules:
    """How much cash an open buy holds back.

    ``fee_margin`` must cover the venue's highest commission rate (the paper venue
    allows below 1%), so the venue never refuses an order for cash that our ledger
    thought was free. ``market_buffer`` matches the venue's head-room for a market buy.
    """

    fee_margin: Decimal = Decimal("0.01")
    market_buffer: Decimal = Decimal("0.05")


class BuyReservations:
    """Cash reserved by our open buys, kept by us and never read from the venue."""

    __slots__ = ("_references", "rules")

    def __init__(self, rules: ReserveRules | None = None) -> None:
        self.rules = rules or ReserveRules()
        # Reference price per market buy (no limit to value it by), by client order id.
        self._references: dict[str, Decimal] = {}

    def sized(self, order: Order, reference: Decimal) -> None:
        """Remember what a market buy was sized at (a limit buy is valued by its limit)."""
        if order.side is Side.BUY and order.price is None:
            self._references[order.client_order_id] = reference

    def finished(self, client_order_id: str) -> None:
        self._references.pop(client_order_id, None)

    def reserved(self, open_orders: Iterable[Order], fallback: Decimal) -> Decimal:
        """What our open buys hold back; ``fallback`` values a market buy sized elsewhere."""
        total = ZERO
        margin = 1 + self.rules.fee_margin
        for order in open_orders:
            if order.side is not Side.BUY:
                continue
            if order.quote_quantity is not None:
                # A cash amount to spend, fees included; its first fill finishes it.
                if order.filled_quantity == 0:
                    total += order.quote_quantity
                continue
            unit = order.price
            if unit is None:
                reference = self._references.get(order.client_order_id, fallback)
                unit = reference * (1 + self.rules.market_buffer)
            total += (order.quantity - order.filled_quantity) * unit * margin
        return total

    def buying_power(
        self,
        account: AccountState,
        open_orders: Iterable[Order],
        fallback: Decimal,
        *,
        fees_inside: bool = False,
    ) -> Decimal:
        """Cash a new buy may spend on price x quantity, its fees already set aside.

        ``fees_inside``: the buy spends a cash amount that pays its own fees (a quote
        quantity order), so no margin is set aside for them.
        """
        free = max(
            ZERO,
            min(account.cash - self.reserved(open_orders, fallback), account.available_cash),
        )
        return free if fees_inside else free / (1 + self.rules.fee_margin)
