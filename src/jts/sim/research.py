"""The research account's instruments: any code, traded in fractions, with no venue rules.

A research account exists to check JTS against plain backtesters, which know
no lots, ticks, limits or sessions; its instruments say so in their own grids
(a fractional lot of ``RESEARCH_RULES.quantity_unit``, no daily limit) so that
sizing, which only knows instruments, agrees with the engine.
"""

from __future__ import annotations

from decimal import Decimal

from jts.domain.enums import AssetClass
from jts.domain.enums import Market
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.domain.ticks import TickRule
from jts.sim.rules import RESEARCH_RULES

RESEARCH_VENUE = "RESEARCH"
QUANTITY_UNIT: Decimal = RESEARCH_RULES.quantity_unit or Decimal("1e-8")


def research_instrument(
    code: str, currency: str = "USD", name: str | None = None, venue: str = RESEARCH_VENUE
) -> Instrument:
    """``RESEARCH:<code>`` (or ``venue``'s code): fractional quantities, any price, no limit."""
    return Instrument(
        id=InstrumentId(venue, code),
        name=name or code,
        asset_class=AssetClass.EQUITY,
        market=Market.OTHER,
        currency=currency,
        tick_rule=TickRule.flat(QUANTITY_UNIT),
        lot_size=QUANTITY_UNIT,
        min_quantity=QUANTITY_UNIT,
        currency_precision=8,
    )
