"""Orders and fills for the repository tests, the same on every store back end."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

from jts.domain.enums import LiquiditySide
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.enums import TimeInForce
from jts.domain.fills import Fill
from jts.domain.money import quantize_money
from jts.domain.orders import Order
from jts.domain.positions import Position
from jts.storage.memory import MemoryStore
from jts.storage.sql.repositories import SqlStore

# What the ``store`` fixture yields: either store, through the same attributes.
Store = SqlStore | MemoryStore

S = OrderStatus
T0 = 1_700_000_000_123_456_789


def make_order(
    *,
    instrument_id: str = "KRX:005930",
    created_ts: int = T0,
    quantity: str = "10",
    price: str | None = "70100",
    strategy_id: str | None = "sma_cross",
) -> Order:
    return Order(
        instrument_id=instrument_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=Decimal(quantity),
        price=None if price is None else Decimal(price),
        created_ts=created_ts,
        broker="paper",
        strategy_id=strategy_id,
        signal_id=str(uuid.uuid4()),
        time_in_force=TimeInForce.DAY,
    )


def make_fill(order: Order, fill_id: str, quantity: str, price: str, ts: int) -> Fill:
    return Fill(
        fill_id=fill_id,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        side=order.side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        commission=Decimal("0.000123456789"),
        tax=Decimal("12.3"),
        ts=ts,
        liquidity=LiquiditySide.MAKER,
    )


async def accepted_order(store: Store, **kwargs: object) -> Order:
    order = make_order(**kwargs)  # type: ignore[arg-type]
    await store.orders.add(order)
    for step, target in enumerate((S.SUBMITTED, S.ACCEPTED), start=1):
        previous = order.transition(target, order.created_ts + step)
        assert await store.orders.save_transition(order, previous)
    return order


def as_stored(position: Position) -> Position:
    """``position`` with its amounts of money rounded to its currency's unit."""
    return replace(
        position,
        realised_pnl=quantize_money(position.realised_pnl, position.currency),
        fees=quantize_money(position.fees, position.currency),
        taxes=quantize_money(position.taxes, position.currency),
    )
