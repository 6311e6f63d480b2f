"""The equity curve of a run, sampled from ``portfolio.snapshots`` in bounded memory."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from jts.core import topics
from jts.domain.events import Event
from jts.domain.events import PortfolioSnapshot
from jts.ports import MessageBus

_BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(slots=True)
class EquityCurve:
    """(ts, equity) samples; when full, every other sample is dropped so memory stays flat."""

    capacity: int = 2_048
    points: list[tuple[int, Decimal]] = field(default_factory=list)
    _stride: int = 1
    _seen: int = 0

    def subscribe(self, bus: MessageBus, group: str = "equity-curve") -> None:
        bus.subscribe(topics.PORTFOLIO_SNAPSHOTS, self.handle_snapshot, group=group)

    async def handle_snapshot(self, event: Event) -> None:
        if isinstance(event, PortfolioSnapshot):
            self.add(event.ts, event.equity)

    def add(self, ts: int, equity: Decimal) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        self.points.append((ts, equity))
        if len(self.points) >= self.capacity:
            self.points = self.points[::2]
            self._stride *= 2

    @property
    def values(self) -> list[Decimal]:
        return [equity for _, equity in self.points]


def max_drawdown(values: list[Decimal]) -> Decimal:
    """Largest fall from a running peak, as a fraction of that peak (0 when none)."""
    peak: Decimal | None = None
    worst = Decimal(0)
    for value in values:
        peak = value if peak is None or value > peak else peak
        if peak > 0:
            worst = max(worst, (peak - value) / peak)
    return worst


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
