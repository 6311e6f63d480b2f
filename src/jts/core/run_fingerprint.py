"""A run's fingerprint: sha256 over the business content of its fills and its equity curve.

Two runs of the same inputs must trade alike to the last won, whatever bus, lane count
or store carried them. Ids are left out on purpose: fill ids carry a per-run prefix and
order ids are random, so they differ between equal runs. Amounts are written in one
canonical form (``100`` and ``100.00`` are the same money, whichever store returned them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal

from jts.domain.fills import Fill

FillLine = tuple[int, str, str, str, str, str, str, str]


def amount(value: Decimal) -> str:
    """``value`` without exponent or trailing zeros: equal amounts give equal text."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def fill_line(fill: Fill) -> FillLine:
    """What a fill did: when, what, which side, how much, at what price, for what costs."""
    return (
        fill.ts,
        fill.instrument_id,
        str(fill.side),
        amount(fill.quantity),
        amount(fill.price),
        amount(fill.commission),
        amount(fill.tax),
        str(fill.liquidity),
    )


def fill_lines(fills: Iterable[Fill]) -> list[FillLine]:
    """Every fill's business content, in a defined order (not the order a store lists them)."""
    return sorted(fill_line(fill) for fill in fills)


def run_fingerprint(fills: Iterable[Fill], equity: Iterable[tuple[int, Decimal]]) -> str:
    """sha256 (hex) over the canonical text of ``fills`` and the ``equity`` curve."""
    digest = hashlib.sha256()
    for line in fill_lines(fills):
        digest.update(("fill|" + "|".join(str(part) for part in line) + "\n").encode())
    for ts, value in equity:
        digest.update(f"equity|{ts}|{amount(value)}\n".encode())
    return digest.hexdigest()
