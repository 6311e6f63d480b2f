"""Column types that keep money exact and time in UTC on SQLite and PostgreSQL alike.

SQLite has no decimal type: SQLAlchemy's ``Numeric`` goes through float there and a
``NUMERIC`` column would let SQLite itself coerce ``'0.10'`` to a REAL. So on SQLite
money is a canonical decimal string in a text column; on PostgreSQL it is a plain
``NUMERIC`` (arbitrary precision, the given scale kept). SQLite also forgets time
zones, so times are stored as naive UTC there and made aware again on the way out.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlalchemy.types import TypeEngine

from jts.storage.values import to_decimal


def canonical_decimal(value: Decimal) -> str:
    """Positional notation without exponent, scale kept: ``Decimal('1E+3')`` -> ``'1000'``."""
    return format(value, "f")


class Money(TypeDecorator[Decimal]):
    """An exact decimal: ``NUMERIC`` on PostgreSQL, canonical text on SQLite.

    On SQLite the column compares as text, so never order or filter by it in SQL.
    """

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String())
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = to_decimal(value)
        return canonical_decimal(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        return Decimal(str(value))


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out; naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: only timezone-aware times are stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
