"""The run summary in a log keeps every column, and tells this run from the store."""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console

from jts.app.summary import BooksCheck
from jts.app.summary import RunSummary
from jts.app.summary import SymbolResult
from jts.cli.render import render_summary
from jts.domain.enums import OrderStatus

D = Decimal
IDS = ("KRX:005930", "KRX:000660", "KRX:035720")


def _summary() -> RunSummary:
    rows = tuple(
        SymbolResult(
            instrument_id=instrument_id,
            name="Samsung Electronics",
            bought=D(1_234_567),
            sold=D(1_200_000),
            position=D(34_567),
            avg_price=D(70_000),
            last_price=D(71_000),
            realised_pnl=D(-123_456_789),
            unrealised_pnl=D(-12_345_678),
            fees=D(2_345_678),
            taxes=D(1_234_567),
        )
        for instrument_id in IDS
    )
    return RunSummary(
        steps=390,
        bars=1_950,
        bars_stored=1_950,
        quarantined=0,
        signals=96,
        orders_by_status={OrderStatus.FILLED: 90, OrderStatus.REJECTED: 1},
        fills=139,
        stored_orders_by_status={OrderStatus.FILLED: 450, OrderStatus.REJECTED: 3},
        stored_fills=700,
        symbols=rows,
        starting_cash=D(100_000_000),
        cash=D(59_451_068),
        equity=D(99_249_468),
        books=BooksCheck(D(59_451_068), D(59_451_068), D(59_451_068), ()),
        strategy_faults={},
        equity_points=((1, D(100_000_000)), (2, D(99_249_468))),
        max_drawdown=D("0.0075"),
    )


def _render(width: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width)  # a file: not a terminal
    render_summary(console, _summary())
    return out.getvalue()


def test_a_log_keeps_every_column_of_the_pnl_table_at_80_columns() -> None:
    text = _render(80)
    for instrument_id in IDS:
        row = next(line for line in text.splitlines() if instrument_id in line)
        assert "…" not in row, row
        assert "-123,456,789" in row and "1,234,567" in row, row
    assert "Samsung Electronics" in text


def test_the_summary_tells_this_runs_counts_from_the_stores() -> None:
    lines = [" ".join(line.strip("│ ").split()) for line in _render(80).splitlines()]
    assert "this run in the store" in lines
    assert "orders 91 453" in lines
    assert "filled 90 450" in lines
    assert "fills 139 700" in lines
    assert "market minutes 390" in lines
