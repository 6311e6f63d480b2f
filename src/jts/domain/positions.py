"""Positions with average-cost accounting."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jts.domain.enums import Side
from jts.domain.fills import Fill

ZERO = Decimal(0)


@dataclass(slots=True)
class Position:
    """Net quantity in one instrument; realised P&L is before fees and taxes."""

    instrument_id: str
    account: str = "default"
    quantity: Decimal = ZERO
    avg_price: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    taxes: Decimal = ZERO
    bought_quantity: Decimal = ZERO
    sold_quantity: Decimal = ZERO
    last_price: Decimal | None = None
    updated_ts: int = 0
    # The account's currency: P&L, fees and taxes are stored rounded to its unit.
    currency: str = "KRW"

    def apply_fill(self, fill: Fill) -> Decimal:
        """Apply ``fill`` and return the P&L it realised (before costs)."""
        signed = fill.quantity * fill.side.sign
        realised = ZERO
        if fill.side is Side.BUY:
            self.bought_quantity += fill.quantity
        else:
            self.sold_quantity += fill.quantity
        if self.quantity == 0 or (self.quantity > 0) == (signed > 0):
            total = self.quantity + signed
            self.avg_price = (
                self.avg_price * abs(self.quantity) + fill.price * fill.quantity
            ) / abs(total)
            self.quantity = total
        else:
            closing = min(abs(self.quantity), fill.quantity)
            direction = 1 if self.quantity > 0 else -1
            realised = (fill.price - self.avg_price) * closing * direction
            self.quantity += signed
            if self.quantity == 0:
                self.avg_price = ZERO
            elif (self.quantity > 0) != (direction > 0):
                self.avg_price = fill.price  # flipped through zero: the rest opened at this price
        self.realised_pnl += realised
        self.fees += fill.commission
        self.taxes += fill.tax
        self.last_price = fill.price
        self.updated_ts = fill.ts
        return realised

    def unrealised_pnl(self, mark: Decimal | None = None) -> Decimal:
        price = mark if mark is not None else self.last_price
        if price is None or self.quantity == 0:
            return ZERO
        return (price - self.avg_price) * self.quantity

    def market_value(self, mark: Decimal | None = None) -> Decimal:
        price = mark if mark is not None else self.last_price
        return ZERO if price is None else price * self.quantity
