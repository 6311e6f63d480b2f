from __future__ import annotations

from decimal import Decimal

import pytest

from jts.domain.enums import Side
from jts.domain.errors import InsufficientFunds
from jts.domain.fills import Fill
from jts.sim.account import SimAccount

ID = "KRX:005930"


def fill(side: Side, qty: int, price: int, commission: int = 0, tax: int = 0) -> Fill:
    return Fill(
        "F1",
        "O1",
        "C1",
        ID,
        side,
        Decimal(qty),
        Decimal(price),
        Decimal(commission),
        Decimal(tax),
        1,
    )


def test_reservations_limit_what_can_be_spent_or_sold() -> None:
    account = SimAccount(Decimal(1_000))
    account.reserve_cash(Decimal(600))
    assert account.available_cash == Decimal(400)
    with pytest.raises(InsufficientFunds):
        account.reserve_cash(Decimal(401))
    account.release_cash(Decimal(600))
    assert account.available_cash == Decimal(1_000)

    account.apply_fill(fill(Side.BUY, 10, 50))
    account.reserve_quantity(ID, Decimal(6))
    assert account.available_quantity(ID) == Decimal(4)
    with pytest.raises(InsufficientFunds):
        account.reserve_quantity(ID, Decimal(5))
    account.release_quantity(ID, Decimal(6))
    assert account.reserved_quantity(ID) == 0


def test_fills_move_cash_and_positions_including_costs() -> None:
    account = SimAccount(Decimal(10_000))
    account.apply_fill(fill(Side.BUY, 10, 500, commission=7))
    assert account.cash == Decimal(10_000 - 5_000 - 7)
    account.apply_fill(fill(Side.SELL, 10, 600, commission=9, tax=12))
    assert account.cash == Decimal(10_000 - 5_007 + 6_000 - 21)
    assert account.positions() == {}


def test_cash_and_positions_never_go_negative_by_default() -> None:
    account = SimAccount(Decimal(1_000))
    with pytest.raises(InsufficientFunds):
        account.apply_fill(fill(Side.BUY, 3, 500))
    with pytest.raises(InsufficientFunds):
        account.apply_fill(fill(Side.SELL, 1, 500))
    assert account.cash == Decimal(1_000)
    assert account.position(ID) == 0


def test_flags_allow_borrowing_and_shorting() -> None:
    account = SimAccount(Decimal(1_000), allow_short=True, allow_negative_cash=True)
    account.reserve_quantity(ID, Decimal(5))
    account.apply_fill(fill(Side.SELL, 5, 100))
    account.apply_fill(fill(Side.BUY, 30, 100))
    assert account.position(ID) == Decimal(25)
    assert account.cash == Decimal(1_000 + 500 - 3_000)
