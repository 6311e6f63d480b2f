"""Turning a signal into an order size and price, within the instrument's grids."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.ids import namespace_bytes
from jts.domain.ids import uuid5_hex
from jts.domain.instruments import Instrument
from jts.domain.signals import Signal
from jts.domain.timestamps import kst_date

_NAMESPACE = namespace_bytes("5d0c8a8e-6a57-4c1e-9a5e-6c8f1f1e2a10")


@dataclass(frozen=True, slots=True)
class SizingConfig:
    """How signals become orders.

    ``notional_per_order`` is the cash a BUY commits; a SELL closes what is held.
    LIMIT orders are priced at the signal price moved ``limit_offset_ticks`` in the
    aggressive direction, then snapped to the tick grid.

    ``all_cash`` makes a BUY spend all available cash instead: a MARKET order for a
    cash amount (``quote_quantity``), which the venue turns into a quantity at the
    fill price, since sizing cannot know that price at signal time.
    """

    notional_per_order: Decimal = Decimal(10_000_000)
    order_type: OrderType = OrderType.LIMIT
    limit_offset_ticks: int = 1
    # Never commit more than this share of available cash to one order.
    max_cash_fraction: Decimal = Decimal("0.95")
    all_cash: bool = False


@dataclass(frozen=True, slots=True)
class OrderPlan:
    quantity: Decimal
    price: Decimal | None
    order_type: OrderType
    # Cash the order spends (the venue sizes it at the fill price); None: by quantity.
    quote_quantity: Decimal | None = None


def client_order_id_for(signal_id: str) -> str:
    """The same signal always yields the same client order id, so a replay cannot double it."""
    return "JTS" + uuid5_hex(_NAMESPACE, signal_id)[:29].upper()


def plan_order(
    signal: Signal,
    instrument: Instrument,
    config: SizingConfig,
    *,
    available_cash: Decimal,
    sellable: Decimal,
) -> OrderPlan | str:
    """An order plan, or the reason no order should be placed."""
    if config.all_cash and signal.side is Side.BUY:
        return _spend_all(signal, instrument, available_cash)
    price = _limit_price(signal, instrument, config)
    if signal.side is Side.BUY:
        budget = min(config.notional_per_order, available_cash * config.max_cash_fraction)
        reference = price if price is not None else signal.price
        quantity = instrument.round_quantity(budget / reference)
        if quantity < instrument.min_quantity:
            return f"cash too small for one lot: {available_cash} at {reference}"
    else:
        quantity = instrument.round_quantity(sellable)
        if quantity <= 0:
            return "nothing to sell"
    return OrderPlan(quantity=quantity, price=price, order_type=config.order_type)


def _spend_all(signal: Signal, instrument: Instrument, available_cash: Decimal) -> OrderPlan | str:
    """A market BUY of all available cash; its quantity is only the estimate at the signal."""
    estimate = instrument.round_quantity(max(available_cash, Decimal(0)) / signal.price)
    if estimate < instrument.min_quantity:
        return f"cash too small for one lot: {available_cash} at {signal.price}"
    return OrderPlan(
        quantity=estimate, price=None, order_type=OrderType.MARKET, quote_quantity=available_cash
    )


def sellable_quantity(own: Decimal, reserved: Decimal, venue_held: Decimal) -> Decimal:
    """What a sell may close: our own books' position less what our open sells reserve.

    Never the venue's figure alone: shares there that our books do not hold were
    not bought by this platform (a manual or outside order), and selling them
    would leave our books short. The venue's figure only caps it, since selling
    what the venue does not hold would be refused.
    """
    return max(Decimal(0), min(own - reserved, venue_held))


def _limit_price(signal: Signal, instrument: Instrument, config: SizingConfig) -> Decimal | None:
    if config.order_type is OrderType.MARKET:
        return None
    rule = instrument.tick_rule_on(kst_date(signal.ts))  # the ladder the venue checks that day
    if signal.side is Side.BUY:
        return rule.shift(rule.round_down(signal.price), config.limit_offset_ticks)
    return rule.shift(rule.round_up(signal.price), -config.limit_offset_ticks)
