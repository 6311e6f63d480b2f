"""The run fingerprint: business content only, one text per amount, any listing order."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from jts.core.run_fingerprint import amount
from jts.core.run_fingerprint import fill_lines
from jts.core.run_fingerprint import run_fingerprint
from jts.domain.enums import Side
from jts.domain.fills import Fill

FILL = Fill(
    "PAPERAB12-1",
    "order-1",
    "JTS1",
    "KRX:005930",
    Side.BUY,
    Decimal(10),
    Decimal("70000"),
    Decimal("105"),
    Decimal(0),
    1_000,
)
OTHER = replace(FILL, fill_id="PAPERAB12-2", instrument_id="KRX:000660", ts=2_000)
CURVE = [(1_000, Decimal("100000000")), (2_000, Decimal("99999895.00"))]


def test_equal_amounts_have_one_text() -> None:
    assert amount(Decimal("70000.00")) == amount(Decimal("7E+4")) == "70000"
    assert amount(Decimal("0.50")) == "0.5"
    assert amount(Decimal("-0.0")) == "0"


def test_ids_and_listing_order_do_not_change_the_fingerprint() -> None:
    renamed = [
        replace(OTHER, fill_id="PAPERCD34-9", order_id="o-x"),
        replace(FILL, fill_id="PAPERCD34-8", client_order_id="JTS9", price=Decimal("70000.00")),
    ]
    assert run_fingerprint([FILL, OTHER], CURVE) == run_fingerprint(renamed, CURVE)
    assert fill_lines([OTHER, FILL]) == fill_lines([FILL, OTHER])


def test_any_business_difference_changes_it() -> None:
    base = run_fingerprint([FILL, OTHER], CURVE)
    assert run_fingerprint([replace(FILL, quantity=Decimal(11)), OTHER], CURVE) != base
    assert run_fingerprint([replace(FILL, commission=Decimal(106)), OTHER], CURVE) != base
    assert run_fingerprint([FILL], CURVE) != base
    assert run_fingerprint([FILL, OTHER], [CURVE[0], (2_000, Decimal(99_999_894))]) != base
