"""Amounts of money rounded to what their currency can hold.

Averages and P&L computed in Decimal carry up to 28 significant digits
(``809700.0000000000000000000092``); a stored amount of money is rounded to its
currency's unit instead: whole won, cents, or the precision a crypto quote
currency settles in. A currency not listed here is refused, never guessed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN
from decimal import Decimal

from jts.domain.errors import ConfigurationError

# Decimal places of each settlement currency (KRW has no sub-unit in use).
CURRENCY_PLACES: dict[str, int] = {
    "KRW": 0,
    "USD": 2,
    "USDT": 8,
    "USDC": 8,
    "BTC": 8,
    "ETH": 8,
}


# The largest amount of money the platform accepts (starting cash): Decimal's 28 digits must
# hold it plus the fractional digits of averages and rates, or sums are rounded and the
# books stop balancing (1e30 did).
MAX_AMOUNT = Decimal(10) ** 15


def currency_places(currency: str) -> int:
    try:
        return CURRENCY_PLACES[currency]
    except KeyError:
        known = ", ".join(sorted(CURRENCY_PLACES))
        raise ConfigurationError(f"unknown currency {currency!r}; known: {known}") from None


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-even to ``currency``'s unit (``809700.00…92`` KRW -> 809700)."""
    unit = Decimal(1).scaleb(-currency_places(currency))
    return amount.quantize(unit, rounding=ROUND_HALF_EVEN)
