"""A stored backtest run: what ran, over which data, and what came out of it.

Kept in the relational store so ``jts backtest list`` (and later the dashboard) can show
runs side by side. Market times are UTC nanoseconds like everywhere else; ``created_at``
is the wall-clock moment the run was made, for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class BacktestRun:
    run_id: str
    created_at: datetime
    strategy: str
    params: Mapping[str, object]
    symbols: tuple[str, ...]
    # Market time of the first bar's open and of the last bar's close.
    start_ts: int
    end_ts: int
    # The account model (fees, taxes, rules): "krx" is the real KRX costs.
    account: str
    slippage: str
    source: str
    starting_cash: Decimal
    final_equity: Decimal
    total_return: Decimal
    max_drawdown: Decimal
    # None when the run spans fewer than two daily returns or they never vary.
    sharpe: Decimal | None
    trades: int
    fills: int
    commission: Decimal
    tax: Decimal
    fingerprint: str
    output_dir: str | None = None
    strategy_id: str = field(default="")
