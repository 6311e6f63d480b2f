"""Order checks a venue applies at submit time, as rejection reasons rather than exceptions.

A venue refusing an order is an ordinary business outcome (it travels as a
REJECTED report), so each check returns the reason in words a trader can act
on, or None when the order passes. The checks that need the ledger (cash,
position) live here too, taking the figures the engine computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR
from decimal import Decimal

from jts.domain.enums import OrderType
from jts.domain.instruments import Instrument
from jts.domain.orders import Order
from jts.domain.ticks import fmt
from jts.domain.timestamps import kst_date
from jts.domain.timestamps import ns_to_dt
from jts.ports.calendar import TradingCalendar


@dataclass(frozen=True, slots=True)
class AccountRules:
    """Which of its venue's rules a simulated account enforces.

    The default is the venue as it is (KRX: lots, the tick ladder, the daily limit,
    trading hours, a volume cap, fees truncated to whole won). A research account
    (``RESEARCH_RULES``) drops them all so that a strategy can be checked against a
    plain backtester: quantities on a fine fractional unit, any positive price, no
    sessions (orders live until filled or canceled), no volume cap.
    """

    name: str = "venue"
    # Quantities are multiples of this instead of the instrument's lot (None: its lot).
    quantity_unit: Decimal | None = None
    tick_ladder: bool = True
    price_limits: bool = True
    # Orders only in trading hours, and DAY orders expire when their session ends.
    trading_hours: bool = True
    # Fills capped at the participation rate x bar volume (the tick's size).
    volume_limit: bool = True

    def round_quantity(self, quantity: Decimal, instrument: Instrument) -> Decimal:
        """Largest multiple of the quantity unit (or the instrument's lot) not above it."""
        if self.quantity_unit is None:
            return instrument.round_quantity(quantity)
        units = (quantity / self.quantity_unit).to_integral_value(ROUND_FLOOR)
        return units * self.quantity_unit


VENUE_RULES = AccountRules()
RESEARCH_RULES = AccountRules(
    name="research",
    quantity_unit=Decimal("1e-8"),
    tick_ladder=False,
    price_limits=False,
    trading_hours=False,
    volume_limit=False,
)


def quantity_problem(
    order: Order, instrument: Instrument, account_rules: AccountRules = VENUE_RULES
) -> str | None:
    quantity = order.quantity
    unit = account_rules.quantity_unit
    if unit is not None:
        if quantity % unit != 0:
            return f"quantity {fmt(quantity)} is not a multiple of the unit {fmt(unit)}"
        return None
    if quantity < instrument.min_quantity:
        return f"quantity {fmt(quantity)} is below the minimum {fmt(instrument.min_quantity)}"
    if quantity % instrument.lot_size != 0:
        return (
            f"quantity {fmt(quantity)} is not a multiple of the lot size {fmt(instrument.lot_size)}"
        )
    return None


def price_problem(
    order: Order,
    instrument: Instrument,
    reference: Decimal | None,
    day: date | None = None,
    account_rules: AccountRules = VENUE_RULES,
) -> str | None:
    """Limit price on the tick ladder of ``day`` and inside the daily limit around ``reference``."""
    if order.order_type is not OrderType.LIMIT or order.price is None:
        return None
    if account_rules.tick_ladder and (problem := tick_problem(order.price, instrument, day)):
        return problem
    if account_rules.price_limits:
        return limit_problem(order.price, instrument, reference, day)
    return None


def tick_problem(price: Decimal, instrument: Instrument, day: date | None = None) -> str | None:
    """The shared ladder check (the one every broker adapter applies), dated by ``day``."""
    return instrument.tick_rule_on(day).problem(price, instrument.currency)


def limit_problem(
    price: Decimal, instrument: Instrument, reference: Decimal | None, day: date | None = None
) -> str | None:
    """Outside the daily band around the previous close (no reference yet: not checked)."""
    limits = None if reference is None else instrument.price_limits(reference, day)
    if limits is None or reference is None:
        return None
    lower, upper = limits
    percent = ((instrument.daily_limit or Decimal(0)) * 100).normalize()
    band = f"previous close {fmt(reference)} ±{fmt(percent)}%"
    if price > upper:
        return f"price {fmt(price)} is above the daily upper limit {fmt(upper)} ({band})"
    if price < lower:
        return f"price {fmt(price)} is below the daily lower limit {fmt(lower)} ({band})"
    return None


def session_problem(calendar: TradingCalendar, ts: int, venue: str) -> str | None:
    if calendar.is_open(ts):
        return None
    when = ns_to_dt(ts).isoformat().replace("+00:00", "Z")
    return f"market closed: {venue} is not trading at {when}"


def cash_shortfall(required: Decimal, available: Decimal, currency: str) -> str:
    return (
        f"insufficient cash: order needs {fmt(required)} {currency} "
        f"(price x quantity + fees), {fmt(available)} {currency} available"
    )


def position_shortfall(instrument_id: str, quantity: Decimal, available: Decimal) -> str:
    return (
        f"insufficient position: cannot sell {fmt(quantity)} {instrument_id}, "
        f"{fmt(max(available, Decimal(0)))} available (short selling is not allowed)"
    )


def static_problem(
    order: Order,
    instrument: Instrument,
    ts: int,
    calendar: TradingCalendar,
    reference: Decimal | None,
    account_rules: AccountRules = VENUE_RULES,
) -> str | None:
    """Checks that need no ledger: quantity grid, price grid and limits, trading hours.

    The quantity of an order spending a cash amount is only an estimate (the
    venue sizes it at the fill price), so it is not held to the grid here.
    """
    quantity = (
        None
        if order.quote_quantity is not None
        else quantity_problem(order, instrument, account_rules)
    )
    return (
        quantity
        or price_problem(order, instrument, reference, kst_date(ts), account_rules)
        or (
            session_problem(calendar, ts, instrument.id.venue)
            if account_rules.trading_hours
            else None
        )
    )


def expiry_reason(session: date) -> str:
    return f"DAY order expired at the end of session {session.isoformat()}"
