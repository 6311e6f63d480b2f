"""A run's fingerprint: sha256 over a canonical text of its fills and its equity curve.

Two runs of the same strategy over the same data with the same settings must trade the
same way; the fingerprint says so in one line. It covers what a run decided and what it
cost (instrument, side, quantity, price, fee, tax, market time of each fill; the equity at
each sampled minute), never generated ids or wall-clock times, which differ every run.
Decimals are written in one form (``70000``, never ``7E+4`` or ``70000.00``) and fills in
one order, so how a store hands them back cannot change the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Sequence
from decimal import Decimal

from jts.backtest.metrics import Point
from jts.domain.fills import Fill

VERSION = "jts-backtest-fingerprint/1"


def decimal_text(value: Decimal) -> str:
    """One spelling per value: no exponent, no trailing zeros, no negative zero."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _fill_line(fill: Fill) -> tuple[int, str]:
    fields = (
        fill.instrument_id,
        fill.side.value,
        decimal_text(fill.quantity),
        decimal_text(fill.price),
        decimal_text(fill.commission),
        decimal_text(fill.tax),
        str(fill.ts),
    )
    return fill.ts, "\t".join(fields)


def fill_lines(fills: Iterable[Fill]) -> list[str]:
    """Each fill's business content in time order, whatever order a store lists them in."""
    return [line for _, line in sorted(_fill_line(fill) for fill in fills)]


def canonical_text(fills: Sequence[Fill], equity: Sequence[Point]) -> str:
    """The text the fingerprint hashes: a header, the fills in time order, then the curve."""
    lines = [VERSION, f"fills {len(fills)}"]
    lines += fill_lines(fills)
    lines.append(f"equity {len(equity)}")
    # Equal values have one spelling, and the curve often stays flat for many minutes.
    previous: Decimal | None = None
    text = ""
    for ts, value in equity:
        if previous is None or value != previous:
            previous, text = value, decimal_text(value)
        lines.append(f"{ts}\t{text}")
    return "\n".join(lines) + "\n"


def fingerprint(fills: Sequence[Fill], equity: Sequence[Point]) -> str:
    return hashlib.sha256(canonical_text(fills, equity).encode("utf-8")).hexdigest()
