"""Slippage: how much worse than the book's price a simulated fill is, and how much fills.

The matching engine finds where an order would trade (a bar's open, or its limit) and
then asks the price model for the price a real order would more likely get: the same
(``none``), a fixed number of ticks worse on the ladder of that date (``ticks:N``), or a
proportion worse (``bps:X``, basis points) moved onto the ladder in the adverse
direction. The engine then keeps the price inside what was stated: never past the
order's limit and never outside the bar's low..high, so slippage never invents a price
that did not trade (a tick has one price, so a tick fill does not slip).

``volume:F`` is not a price model: it caps our fills at the fraction F of each bar's
volume, which is what the engine's participation rate already does, so it only sets
that rate (``SlippageSpec.participation_rate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Protocol

from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.ticks import TickRule

_BASIS_POINT = Decimal("0.0001")


class SlippageModel(Protocol):
    """Moves a fill price against the order; the result must lie on ``rule``'s ladder."""

    def slip(self, price: Decimal, side: Side, rule: TickRule) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class NoSlippage:
    def slip(self, price: Decimal, side: Side, rule: TickRule) -> Decimal:
        return price


@dataclass(frozen=True, slots=True)
class TickSlippage:
    """``ticks`` steps of the ladder worse: up for a buy, down for a sell."""

    ticks: int

    def slip(self, price: Decimal, side: Side, rule: TickRule) -> Decimal:
        if self.ticks == 0:
            return price
        if side is Side.BUY:
            return rule.shift(rule.round_up(price), self.ticks)
        return max(rule.shift(rule.round_down(price), -self.ticks), _lowest(rule))


@dataclass(frozen=True, slots=True)
class ProportionalSlippage:
    """``bps`` basis points worse, then onto the ladder away from the order's favour."""

    bps: Decimal

    def slip(self, price: Decimal, side: Side, rule: TickRule) -> Decimal:
        if self.bps == 0:
            return price
        move = price * self.bps * _BASIS_POINT
        if side is Side.BUY:
            return rule.round_up(price + move)
        return max(rule.round_down(price - move), _lowest(rule))


@dataclass(frozen=True, slots=True)
class SlippageSpec:
    """A parsed ``--slippage``: the price model and, for ``volume:F``, the participation rate."""

    text: str
    model: SlippageModel
    participation_rate: Decimal | None = None


NONE = SlippageSpec("none", NoSlippage())
FORMS = "none, ticks:N (whole ticks), bps:X (basis points) or volume:F (0 < F <= 1)"


def parse_slippage(text: str) -> SlippageSpec:
    """``none``, ``ticks:N``, ``bps:X`` or ``volume:F``; anything else is a ConfigurationError."""
    cleaned = text.strip().lower()
    if cleaned in ("", "none"):
        return NONE
    kind, _, raw = cleaned.partition(":")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigurationError(f"slippage {text!r}: write {FORMS}") from None
    if not value.is_finite() or value < 0:
        raise ConfigurationError(f"slippage {text!r}: the amount must be a number >= 0")
    if kind == "ticks":
        if value != value.to_integral_value():
            raise ConfigurationError(f"slippage {text!r}: ticks must be a whole number")
        return SlippageSpec(f"ticks:{int(value)}", TickSlippage(int(value)))
    if kind == "bps":
        return SlippageSpec(f"bps:{_plain(value)}", ProportionalSlippage(value))
    if kind == "volume":
        if not 0 < value <= 1:
            raise ConfigurationError(f"slippage {text!r}: the volume share must be in (0, 1]")
        return SlippageSpec(f"volume:{_plain(value)}", NoSlippage(), participation_rate=value)
    raise ConfigurationError(f"slippage {text!r}: write {FORMS}")


def _lowest(rule: TickRule) -> Decimal:
    """The smallest price on the ladder: a sell never slips to zero or below."""
    return rule.tick_at(Decimal(0))


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
