"""The fingerprint covers what a run did, not how it was stored or what ids it drew."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from jts.backtest.fingerprint import canonical_text
from jts.backtest.fingerprint import decimal_text
from jts.backtest.fingerprint import fingerprint
from jts.domain.enums import Side
from jts.domain.fills import Fill

D = Decimal
FILLS = [
    Fill("PAPERAB-1", "o1", "c1", "KRX:005930", Side.BUY, D(10), D(70_000), D(105), D(0), 100),
    Fill("PAPERAB-2", "o2", "c2", "KRX:000660", Side.SELL, D(5), D(120_000), D(90), D(1_200), 200),
]
CURVE = [(60, D(1_000_000)), (120, D("999895.00")), (180, D("1001000"))]


def test_the_canonical_text_lists_fills_then_the_curve_in_one_spelling() -> None:
    assert canonical_text(FILLS, CURVE) == (
        "jts-backtest-fingerprint/1\n"
        "fills 2\n"
        "KRX:005930\tBUY\t10\t70000\t105\t0\t100\n"
        "KRX:000660\tSELL\t5\t120000\t90\t1200\t200\n"
        "equity 3\n"
        "60\t1000000\n"
        "120\t999895\n"
        "180\t1001000\n"
    )
    assert [decimal_text(D(v)) for v in ("7E+4", "70000.00", "-0", "0.050")] == [
        "70000",
        "70000",
        "0",
        "0.05",
    ]


def test_ids_and_store_order_do_not_change_it_but_any_fill_detail_does() -> None:
    base = fingerprint(FILLS, CURVE)
    assert len(base) == 64
    renamed = [
        replace(f, fill_id=f"X{f.fill_id}", order_id="z", client_order_id="y") for f in FILLS
    ]
    assert fingerprint(list(reversed(renamed)), CURVE) == base
    assert fingerprint(FILLS, [(ts, D(str(v)) + D("0.000")) for ts, v in CURVE]) == base
    changes = [
        replace(FILLS[0], price=D(70_100)),
        replace(FILLS[0], quantity=D(11)),
        replace(FILLS[0], commission=D(106)),
        replace(FILLS[0], tax=D(1)),
        replace(FILLS[0], ts=101),
        replace(FILLS[0], side=Side.SELL),
        replace(FILLS[0], instrument_id="KRX:035420"),
    ]
    for changed in changes:
        assert fingerprint([changed, FILLS[1]], CURVE) != base, changed
    assert fingerprint(FILLS, [*CURVE[:2], (180, D(1_001_001))]) != base
    assert fingerprint(FILLS[:1], CURVE) != base
