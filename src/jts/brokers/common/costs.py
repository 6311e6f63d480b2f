"""Commission and tax of a KRX fill the venue reported without them (KIS notices, Creon events).

The sell-side tax depends on the settlement date (T+2 sessions on the KRX
calendar), which is what decides the rate around a year end; the commission is
the configured per-broker rate of the fee schedule.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from jts.brokers.common.calendars import calendar_for_venue
from jts.domain.enums import Side
from jts.domain.errors import ConfigurationError
from jts.domain.instruments import InstrumentId
from jts.domain.instruments import krx_stock
from jts.sim.fees import FeeSchedule

SEOUL = ZoneInfo("Asia/Seoul")
SETTLEMENT_SESSIONS = 2


def krx_fill_costs(
    fees: FeeSchedule, instrument_id: str, side: Side, quantity: Decimal, price: Decimal, ts: int
) -> tuple[Decimal, Decimal]:
    """(commission, tax) of one execution at ``ts`` (UTC ns)."""
    instrument = krx_stock(InstrumentId.parse(instrument_id).code, "")
    day = datetime.fromtimestamp(ts / 1e9, tz=SEOUL).date()
    try:
        settles = calendar_for_venue("KRX").settlement_date(day, SETTLEMENT_SESSIONS)
    except ConfigurationError:
        # A fill outside the calendar's range (a far future date): two days later.
        settles = day + timedelta(days=SETTLEMENT_SESSIONS)
    return fees.costs(instrument, side, quantity, price, day, settles)
