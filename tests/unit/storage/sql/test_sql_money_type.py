"""Money and UtcDateTime keep values exact on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from jts.storage.sql.engine import create_engine_for
from jts.storage.sql.types import Money
from jts.storage.sql.types import UtcDateTime
from jts.storage.sql.types import canonical_decimal

metadata = sa.MetaData()
samples = sa.Table(
    "samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", Money(), nullable=True),
    sa.Column("at", UtcDateTime(), nullable=True),
)

EXACT_VALUES = [
    Decimal("0.123456789012"),
    Decimal("0.1"),
    Decimal("0.10"),
    Decimal("-42.000001"),
    Decimal("70100"),
    Decimal("12345678901234567890.123456789012345678"),
    Decimal("1E-12"),
    Decimal("0"),
]


@pytest.fixture
async def engine(sql_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(sql_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)  # a test-only table
    try:
        yield engine
    finally:
        await engine.dispose()


async def _round_trip(engine: AsyncEngine, **values: object) -> tuple[Any, Any]:
    async with engine.begin() as connection:
        key = (await connection.execute(sa.insert(samples).values(**values))).inserted_primary_key
        assert key is not None
        query = sa.select(samples.c.amount, samples.c.at).where(samples.c.id == key[0])
        amount, at = (await connection.execute(query)).one()
        return amount, at


@pytest.mark.parametrize("value", EXACT_VALUES, ids=str)
async def test_decimal_round_trip_is_exact(engine: AsyncEngine, value: Decimal) -> None:
    amount, _at = await _round_trip(engine, amount=value)
    assert isinstance(amount, Decimal)
    assert amount == value
    assert canonical_decimal(amount) == canonical_decimal(value)


async def test_many_small_amounts_sum_exactly(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.insert(samples), [{"amount": Decimal("0.1")}] * 10)
        amounts = (await connection.execute(sa.select(samples.c.amount))).scalars().all()
    assert sum(amounts, Decimal(0)) == Decimal("1.0")


async def test_null_money_stays_null(engine: AsyncEngine) -> None:
    amount, at = await _round_trip(engine, amount=None, at=None)
    assert amount is None
    assert at is None


async def test_float_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(StatementError, match="money must be a Decimal"):
        await _round_trip(engine, amount=0.1)


async def test_non_finite_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(StatementError, match="finite"):
        await _round_trip(engine, amount=Decimal("NaN"))


async def test_datetime_comes_back_aware_utc(engine: AsyncEngine) -> None:
    seoul = timezone(timedelta(hours=9))
    moment = datetime(2024, 3, 4, 9, 0, 0, 123456, tzinfo=seoul)
    _amount, at = await _round_trip(engine, at=moment)
    assert at == moment
    assert at.tzinfo is not None
    assert at.utcoffset() == timedelta(0)
    assert at.hour == 0
    assert at.microsecond == 123456


async def test_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await _round_trip(engine, at=datetime(2024, 1, 1))


def test_canonical_decimal_has_no_exponent() -> None:
    assert canonical_decimal(Decimal("1E+3")) == "1000"
    assert canonical_decimal(Decimal("1E-12")) == "0.000000000001"
    assert canonical_decimal(Decimal("2.50")) == "2.50"


def test_naive_value_from_the_database_is_read_as_utc() -> None:
    decorated = UtcDateTime()
    naive_from_sqlite = datetime(2024, 1, 1, 12, 0)
    result = decorated.process_result_value(
        naive_from_sqlite, sa.create_engine("sqlite://").dialect
    )
    assert result == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
