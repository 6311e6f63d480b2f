"""Executions reported by a venue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jts.domain.enums import LiquiditySide
from jts.domain.enums import Side


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution; ``fill_id`` is unique per venue so a replayed report is recognised."""

    fill_id: str
    order_id: str
    client_order_id: str
    instrument_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    tax: Decimal
    ts: int
    liquidity: LiquiditySide = LiquiditySide.TAKER

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price

    @property
    def costs(self) -> Decimal:
        return self.commission + self.tax

    @property
    def cash_delta(self) -> Decimal:
        """Change in cash from this fill: buys spend notional plus costs, sells receive minus."""
        if self.side is Side.BUY:
            return -(self.notional + self.costs)
        return self.notional - self.costs
