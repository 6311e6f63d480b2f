"""What a run's equity curve and fills say: return, drawdown, Sharpe, trades and costs.

Everything is Decimal (exact, the same on every machine), so a run's numbers are as
reproducible as its fingerprint. The Sharpe ratio is annualised from daily returns:
the equity at the last sample of each Korean calendar day, measured from the starting
equity, with no risk-free rate (zero), sample standard deviation, and 252 sessions a year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from jts.domain.fills import Fill
from jts.domain.timestamps import KST
from jts.domain.timestamps import dt_to_ns
from jts.domain.timestamps import kst_date

Point = tuple[int, Decimal]  # (UTC ns of market time, equity)

ZERO = Decimal(0)
SESSIONS_PER_YEAR = 252
_RATIO = Decimal("0.0000000001")  # returns and drawdowns: ten decimals
_SHARPE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class BacktestMetrics:
    starting_equity: Decimal
    final_equity: Decimal
    total_return: Decimal
    max_drawdown: Decimal
    sharpe: Decimal | None
    daily_returns: tuple[Decimal, ...]
    trades: int
    fills: int
    commission: Decimal
    tax: Decimal


def drawdowns(values: Sequence[Decimal]) -> list[Decimal]:
    """Fall from the running peak at each value, as a fraction of that peak (0 at a peak)."""
    peak: Decimal | None = None
    falls = []
    for value in values:
        peak = value if peak is None or value > peak else peak
        falls.append((peak - value) / peak if peak > 0 else Decimal(0))
    return falls


def max_drawdown(values: Sequence[Decimal]) -> Decimal:
    """Largest fall from a running peak, as a fraction of that peak (0 when none).

    ``max(drawdowns(values))`` without a division per value (a backtest has one per
    minute): under one peak the fall grows as the value drops, and a rounded quotient
    never shrinks as the exact one grows, so only a new low under the peak can be the
    largest fall, and its quotient is the same Decimal ``drawdowns`` gives.
    """
    worst = Decimal(0)
    peak: Decimal | None = None
    low = Decimal(0)
    for value in values:
        if peak is None or value > peak:
            peak = low = value
        elif value < low:
            low = value
            if peak > 0:
                worst = max(worst, (peak - value) / peak)
    return worst


def daily_closes(points: Sequence[Point]) -> list[tuple[date, Decimal]]:
    """The last equity of each KST day, in time order."""
    closes: dict[date, Decimal] = {}
    # The KST day of the previous point and its bounds in UTC ns: one date conversion
    # per day, not per point (a backtest samples every minute).
    day: date | None = None
    start = end = 0
    for ts, equity in points:
        if day is None or not start <= ts < end:
            day = kst_date(ts)
            start = dt_to_ns(datetime.combine(day, time(), KST))
            end = dt_to_ns(datetime.combine(day + timedelta(days=1), time(), KST))
        closes[day] = equity
    return list(closes.items())


def daily_returns(points: Sequence[Point]) -> list[Decimal]:
    """Day-over-day returns, the first measured from the curve's first (starting) point."""
    if not points:
        return []
    values = [points[0][1], *(equity for _, equity in daily_closes(points))]
    return [
        (today - yesterday) / yesterday for yesterday, today in pairwise(values) if yesterday != 0
    ]


def annualised_sharpe(
    returns: Sequence[Decimal], periods: int = SESSIONS_PER_YEAR
) -> Decimal | None:
    """mean / sample std x sqrt(periods); None with fewer than two returns or no variation."""
    if len(returns) < 2:
        return None
    mean = sum(returns, ZERO) / len(returns)
    variance = sum(((r - mean) ** 2 for r in returns), ZERO) / (len(returns) - 1)
    if variance == 0:
        return None
    return (mean / variance.sqrt() * Decimal(periods).sqrt()).quantize(_SHARPE)


def measure(points: Sequence[Point], fills: Sequence[Fill]) -> BacktestMetrics:
    """The run's metrics; ``points`` start at the starting equity and end at the final one."""
    if not points:
        raise ValueError("a backtest's equity curve needs at least its starting point")
    start, final = points[0][1], points[-1][1]
    returns = daily_returns(points)
    total = (final - start) / start if start != 0 else ZERO
    return BacktestMetrics(
        starting_equity=start,
        final_equity=final,
        total_return=total.quantize(_RATIO),
        max_drawdown=max_drawdown([equity for _, equity in points]).quantize(_RATIO),
        sharpe=annualised_sharpe(returns),
        daily_returns=tuple(returns),
        trades=len({fill.order_id for fill in fills}),
        fills=len(fills),
        commission=sum((fill.commission for fill in fills), ZERO),
        tax=sum((fill.tax for fill in fills), ZERO),
    )
