"""Money is stored rounded to its currency's unit (issue 9, point 6).

A realised P&L of ``(price - average) x quantity`` carries the average's 28
digits: ``809700.0000000000000000000092`` reached the positions table before.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jts.domain.errors import ConfigurationError
from jts.domain.errors import StorageError
from jts.domain.money import quantize_money
from jts.domain.positions import Position
from repository_samples import Store

NOISY = Decimal("809700.0000000000000000000092")


async def test_krw_pnl_is_stored_in_whole_won(store: Store) -> None:
    position = Position(
        "KRX:005930",
        account="paper",
        quantity=Decimal(3),
        avg_price=Decimal("71233.33333333333333333333333"),
        realised_pnl=NOISY,
        fees=Decimal("105.5"),
        taxes=Decimal("2250.4"),
        updated_ts=1_772_500_000_000_000_000,
    )
    await store.positions.upsert(position)
    [stored] = await store.positions.list("paper")
    assert str(stored.realised_pnl) == "809700"
    assert (stored.fees, stored.taxes) == (Decimal(106), Decimal(2250))  # half-even
    assert stored.avg_price == position.avg_price  # a price, not an amount: kept exact


async def test_usdt_amounts_keep_eight_places(store: Store) -> None:
    position = Position(
        "BINANCE:BTCUSDT",
        account="crypto",
        realised_pnl=Decimal("12.3456789012345"),
        currency="USDT",
        updated_ts=1_772_500_000_000_000_000,
    )
    await store.positions.upsert(position)
    [stored] = await store.positions.list("crypto")
    assert str(stored.realised_pnl) == "12.34567890"


async def test_an_unknown_currency_is_refused_not_guessed(store: Store) -> None:
    position = Position("X:Y", currency="XYZ", updated_ts=1)
    with pytest.raises(StorageError, match="unknown currency 'XYZ'"):
        await store.positions.upsert(position)
    with pytest.raises(ConfigurationError):
        quantize_money(Decimal(1), "XYZ")
    assert quantize_money(Decimal("0.005"), "USD") == Decimal("0.00")
