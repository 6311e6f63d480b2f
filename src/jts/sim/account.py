"""The simulated venue's ledger: cash, holdings and what open orders have set aside.

Open buy orders reserve cash and open sell orders reserve shares, so two
orders can never spend the same won or sell the same share. Cash and positions
stay non-negative unless the account explicitly allows borrowing or shorting.
"""

from __future__ import annotations

from decimal import Decimal

from jts.domain.enums import Side
from jts.domain.errors import InsufficientFunds
from jts.domain.fills import Fill

ZERO = Decimal(0)


class SimAccount:
    """One currency's cash plus positions, with reservations for working orders."""

    def __init__(
        self,
        cash: Decimal,
        currency: str = "KRW",
        name: str = "paper",
        *,
        allow_short: bool = False,
        allow_negative_cash: bool = False,
    ) -> None:
        if cash < 0 and not allow_negative_cash:
            raise InsufficientFunds(f"starting cash {cash} is negative")
        self.name = name
        self.currency = currency
        self.allow_short = allow_short
        self.allow_negative_cash = allow_negative_cash
        self.cash = cash
        self.reserved_cash = ZERO
        self._positions: dict[str, Decimal] = {}
        self._reserved_qty: dict[str, Decimal] = {}

    # -- reading ---------------------------------------------------------------------------

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.reserved_cash

    def position(self, instrument_id: str) -> Decimal:
        return self._positions.get(instrument_id, ZERO)

    def reserved_quantity(self, instrument_id: str) -> Decimal:
        return self._reserved_qty.get(instrument_id, ZERO)

    def available_quantity(self, instrument_id: str) -> Decimal:
        return self.position(instrument_id) - self.reserved_quantity(instrument_id)

    def positions(self) -> dict[str, Decimal]:
        """Non-zero holdings by instrument id."""
        return {key: qty for key, qty in sorted(self._positions.items()) if qty != 0}

    # -- reservations ----------------------------------------------------------------------

    def can_reserve_cash(self, amount: Decimal) -> bool:
        return self.allow_negative_cash or amount <= self.available_cash

    def reserve_cash(self, amount: Decimal) -> None:
        if not self.can_reserve_cash(amount):
            raise InsufficientFunds(
                f"needs {amount} {self.currency}, {self.available_cash} available"
            )
        self.reserved_cash += amount

    def release_cash(self, amount: Decimal) -> None:
        self.reserved_cash = max(ZERO, self.reserved_cash - amount)

    def can_reserve_quantity(self, instrument_id: str, quantity: Decimal) -> bool:
        return self.allow_short or quantity <= self.available_quantity(instrument_id)

    def reserve_quantity(self, instrument_id: str, quantity: Decimal) -> None:
        if not self.can_reserve_quantity(instrument_id, quantity):
            raise InsufficientFunds(
                f"{instrument_id}: cannot sell {quantity}, "
                f"{self.available_quantity(instrument_id)} available"
            )
        self._reserved_qty[instrument_id] = self.reserved_quantity(instrument_id) + quantity

    def release_quantity(self, instrument_id: str, quantity: Decimal) -> None:
        left = max(ZERO, self.reserved_quantity(instrument_id) - quantity)
        if left == 0:
            self._reserved_qty.pop(instrument_id, None)
        else:
            self._reserved_qty[instrument_id] = left

    # -- settlement ------------------------------------------------------------------------

    def apply_fill(self, fill: Fill) -> None:
        """Book ``fill``; the caller releases the order's reservation first."""
        new_cash = self.cash + fill.cash_delta
        if new_cash < self.reserved_cash and not self.allow_negative_cash and fill.side is Side.BUY:
            raise InsufficientFunds(
                f"fill {fill.fill_id} costs {-fill.cash_delta} {self.currency}, "
                f"{self.available_cash} available"
            )
        new_qty = self.position(fill.instrument_id) + fill.quantity * fill.side.sign
        if new_qty < 0 and not self.allow_short:
            raise InsufficientFunds(
                f"fill {fill.fill_id} would leave {fill.instrument_id} short ({new_qty})"
            )
        self.cash = new_cash
        if new_qty == 0:
            self._positions.pop(fill.instrument_id, None)
        else:
            self._positions[fill.instrument_id] = new_qty
