"""Checks a KRX adapter runs on an order's numbers before a submit or a modify is sent.

A venue refuses a price off its tick ladder; sending it anyway spends a request
and, worse, an adapter that rounded it would trade at a price nobody asked for.
So the price is checked here against the shared ladder (``jts.domain.ticks``, the
one the matching engine and the paper venue use) and a bad one is refused with
the nearest valid prices, and numbers go on the wire only when they are exact.
"""

from __future__ import annotations

from decimal import Decimal

from jts.domain.enums import Market
from jts.domain.errors import InvalidOrder
from jts.domain.instruments import InstrumentId
from jts.domain.instruments import krx_stock
from jts.domain.ticks import KRX_UNIFIED_FROM
from jts.domain.timestamps import kst_date


def check_krx_price(
    instrument_id: str, price: Decimal, ts: int, market: Market | None = None
) -> None:
    """Raise InvalidOrder unless ``price`` is on the ladder of ``market`` on the KST day of ``ts``.

    Since 2023-01-25 every board shares one ladder, so a board that is not known
    does not matter; before that it does, and an unknown board is refused.
    """
    day = kst_date(ts)
    if market is None and day < KRX_UNIFIED_FROM:
        raise InvalidOrder(
            f"{instrument_id}: the listing board is needed to check a price on {day.isoformat()} "
            f"(KRX boards had different tick ladders before {KRX_UNIFIED_FROM.isoformat()})"
        )
    code = InstrumentId.parse(instrument_id).code
    krx_stock(code, code, market or Market.KOSPI).check_price(price, day)


def whole(value: Decimal, what: str) -> str:
    """``value`` as the integer text a venue field takes; a fraction is refused, never cut."""
    if value != value.to_integral_value():
        raise InvalidOrder(f"{what} {value:f} is not a whole number; it is not rounded for you")
    return str(int(value))
