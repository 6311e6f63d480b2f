"""A run's equity curve and its drawdown: one computation for the summary and the chart.

The curve is sampled by the platform after each market minute has settled (never from
snapshots published mid-minute, whose order depends on task scheduling), so the same
seed gives the same curve. Memory stays bounded; the latest sample is always kept, so
the curve ends at the run's final state.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

# One computation of drawdown for the summary, the chart and backtests (re-exported here).
from jts.backtest.metrics import Point
from jts.backtest.metrics import drawdowns
from jts.backtest.metrics import max_drawdown

__all__ = ["EquityCurve", "Point", "drawdowns", "max_drawdown", "sparkline"]

_BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(slots=True)
class EquityCurve:
    """(ts, equity) samples; when full, every other sample is dropped so memory stays flat."""

    capacity: int = 2_048
    points: list[Point] = field(default_factory=list)
    _stride: int = 1
    _seen: int = 0
    _latest: Point | None = None

    def add(self, ts: int, equity: Decimal) -> None:
        self._latest = (ts, equity)
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        self.points.append((ts, equity))
        if len(self.points) >= self.capacity:
            self.points = self.points[::2]
            self._stride *= 2

    def curve(self, final: Point | None = None) -> tuple[Point, ...]:
        """The kept samples ending with the latest one, then ``final`` if it differs."""
        points = list(self.points)
        for last in (self._latest, final):
            if last is not None and (not points or points[-1] != last):
                points.append(last)
        return tuple(points)


def sparkline(values: list[Decimal], width: int = 60) -> str:
    """A one-line chart of ``values`` resampled to ``width`` characters."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [values[int(i * step)] for i in range(width)]
    low, high = min(values), max(values)
    span = high - low
    if span == 0:
        return _BLOCKS[len(_BLOCKS) // 2] * len(values)
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[int((v - low) / span * top)] for v in values)
