"""What every relational-model store refuses or rewrites, SQL and in-memory alike.

The SQL store learns these rules from its columns (UUID keys, exact ``NUMERIC``
money, timestamps); the in-memory store has no columns, so both take them from
here and a backtest on memory keeps the books a database would have kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from jts.domain.enums import OrderStatus
from jts.domain.errors import ConfigurationError
from jts.domain.errors import DuplicateOrder
from jts.domain.errors import StorageError
from jts.domain.money import quantize_money
from jts.domain.orders import Order
from jts.domain.positions import Position

MONEY_FIELDS_OF_POSITIONS = ("realised_pnl", "fees", "taxes")


def parse_uuid(value: str, what: str) -> uuid.UUID:
    """A domain id as a UUID; anything else cannot be stored in a UUID column."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as exc:
        raise StorageError(f"{what} {value!r} is not a UUID") from exc


def check_time(ns: int, what: str) -> None:
    """0 or less is a clock that was never set: refused, never stored as 1970."""
    if ns <= 0:
        raise StorageError(f"{what}: timestamp {ns} is not a time (was the clock set?)")


def to_decimal(value: object) -> Decimal:
    """Coerce what the application may bind; floats are refused because they are inexact."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be a Decimal or int, got {type(value).__name__}: {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"money must be finite, got {result}")
    return result


def as_stored_decimal(value: object) -> Decimal:
    """``value`` as a database gives it back: exact, scale kept, no positive exponent.

    ``Decimal('7.01E+4')`` (what ``normalize()`` makes) comes back as ``70100`` from
    PostgreSQL's NUMERIC and SQLite's canonical text alike. Raises like ``to_decimal``.
    """
    if type(value) is not Decimal or not value.is_finite():
        value = to_decimal(value)
    # str() writes "E+" exactly when the exponent is positive, five times faster than
    # as_tuple() (this runs for every amount an order, fill or position stores).
    if "E+" in str(value):
        return Decimal(format(value, "f"))
    return value


def position_money(position: Position) -> dict[str, Decimal]:
    """The position's amounts of money rounded to its currency's unit."""
    try:
        return {
            name: quantize_money(getattr(position, name), position.currency)
            for name in MONEY_FIELDS_OF_POSITIONS
        }
    except ConfigurationError as exc:
        raise StorageError(f"position {position.account}/{position.instrument_id}: {exc}") from None


def check_submitted(orders: Sequence[Order]) -> None:
    """A batch for ``add_submitted``: SUBMITTED orders, no client order id twice."""
    seen: set[str] = set()
    for order in orders:
        if order.status is not OrderStatus.SUBMITTED:
            raise StorageError(
                f"storing order {order.client_order_id} as submitted refused: it is {order.status}"
            )
        if order.client_order_id in seen:
            raise DuplicateOrder(f"order {order.client_order_id} is twice in one batch")
        seen.add(order.client_order_id)
