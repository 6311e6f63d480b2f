"""Creon's words to the platform's and back: codes, instruments, bars, orders, fills.

Codes carry Creon's ``A`` prefix (``A005930``) and instruments are ``KRX:005930``;
order conditions are CpTd0311 input 7 (``0`` none, ``1`` IOC, ``2`` FOK, sent by
the bridge from ``NONE``/``IOC``/``FOK``). Creon orders live one day, so a GTC
order cannot be honoured and is refused, never sent as DAY.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jts.brokers.common.costs import krx_fill_costs
from jts.brokers.common.prices import check_krx_price
from jts.brokers.common.prices import whole
from jts.brokers.common.requests import require_fields
from jts.brokers.creon.schemas import BarOut
from jts.brokers.creon.schemas import EventOut
from jts.brokers.creon.schemas import FillOut
from jts.brokers.creon.schemas import InstrumentOut
from jts.brokers.creon.schemas import OrderIn
from jts.brokers.creon.schemas import OrderOut
from jts.domain.enums import Market
from jts.domain.enums import OrderType
from jts.domain.enums import TimeInForce
from jts.domain.errors import InvalidOrder
from jts.domain.fills import Fill
from jts.domain.instruments import KRX
from jts.domain.instruments import Instrument
from jts.domain.instruments import InstrumentId
from jts.domain.instruments import krx_stock
from jts.domain.market import Bar
from jts.domain.market import Timeframe
from jts.domain.orders import Order
from jts.domain.reports import OrderStatusReport
from jts.sim.fees import FeeSchedule

_MARKETS = {1: Market.KOSPI, 2: Market.KOSDAQ, 3: Market.KONEX}
_CONDITIONS = {TimeInForce.DAY: "NONE", TimeInForce.IOC: "IOC"}


def creon_code(instrument_id: str) -> str:
    """``KRX:005930`` -> ``A005930``."""
    parsed = InstrumentId.parse(instrument_id)
    if parsed.venue != KRX or len(parsed.code) != 6 or not parsed.code.isdigit():
        raise InvalidOrder(f"{instrument_id} is not a KRX stock Creon can trade")
    return f"A{parsed.code}"


def instrument_id_of(code: str) -> str:
    """``A005930`` -> ``KRX:005930``."""
    return f"{KRX}:{code[1:] if code.startswith('A') else code}"


def instrument_of(item: InstrumentOut) -> Instrument | None:
    """A stock (``A`` code) as an instrument; anything else Creon lists is not ours."""
    if not item.code.startswith("A"):
        return None
    return krx_stock(item.code[1:], item.name, _MARKETS.get(item.market, Market.KOSPI))


def bar_of(instrument_id: str, timeframe: Timeframe, bar: BarOut) -> Bar:
    return Bar(instrument_id, timeframe, bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume)


def condition_of(time_in_force: TimeInForce) -> str:
    """CpTd0311's order condition for ``time_in_force``; InvalidOrder when Creon has none."""
    condition = _CONDITIONS.get(time_in_force)
    if condition is None:
        raise InvalidOrder(
            f"Creon orders live one day: time in force {time_in_force.value} is not supported"
        )
    return condition


def order_body(order: Order, now_ns: int) -> dict[str, Any]:
    """The bridge's ``OrderIn`` for ``order``; InvalidOrder for what Creon would refuse."""
    if order.quote_quantity is not None:
        raise InvalidOrder(
            "Creon takes a number of shares, not a cash amount to spend (quote quantity)"
        )
    code = creon_code(order.instrument_id)
    condition = condition_of(order.time_in_force)
    quantity = int(whole(order.quantity, "quantity"))
    price = order.price if order.order_type is OrderType.LIMIT else None
    if price is not None:
        check_krx_price(order.instrument_id, price, now_ns)
    body = OrderIn(
        side=order.side,
        code=code,
        quantity=quantity,
        price=price,
        order_type=order.order_type,
        condition=condition,
    ).model_dump(mode="json")
    # CpTd0311 needs a price for a limit order (input 5); never let the bridge guess.
    required: tuple[str, ...] = ("side", "code", "quantity", "order_type")
    if order.order_type is OrderType.LIMIT:
        required += ("price",)
    require_fields("creon", f"order {order.client_order_id}", body, required)
    return body


def status_of(order: OrderOut, client_order_id: str | None) -> OrderStatusReport:
    """One Creon order number as it stands, under ``client_order_id`` if it is ours."""
    return OrderStatusReport(
        client_order_id=client_order_id,
        venue_order_id=order.order_no,
        instrument_id=instrument_id_of(order.code),
        side=order.side,
        quantity=Decimal(order.quantity),
        price=order.price,
        filled_quantity=Decimal(order.filled_quantity),
        avg_fill_price=order.avg_fill_price,
        status=order.status,
        ts=order.ts,
    )


def fill_of(
    fees: FeeSchedule, client_order_id: str, fill_id: str, item: FillOut | EventOut
) -> Fill:
    """A fill from the bridge's fill list or event journal, with KRX costs from ``fees``.

    Commission and tax are not in Creon's fill events; they come from the fee
    schedule (commission per broker, sell tax dated by settlement).
    """
    quantity, price = Decimal(item.quantity), item.price
    instrument_id = instrument_id_of(item.code)
    commission, tax = krx_fill_costs(fees, instrument_id, item.side, quantity, price, item.ts)
    return Fill(
        fill_id=f"creon:{fill_id}",
        order_id=item.order_no,
        client_order_id=client_order_id,
        instrument_id=instrument_id,
        side=item.side,
        quantity=quantity,
        price=price,
        commission=commission,
        tax=tax,
        ts=item.ts,
    )
