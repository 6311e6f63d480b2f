"""An SVG chart of a run's equity curve and drawdown, written next to the run's data.

SVG keeps the report dependency-free: any browser opens it, and it diffs as text. The
chart is a pure function of the run's points (no clock, no generated ids), so the same
seed writes the same bytes; its drawdown comes from the same function as the summary's.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from jts.app.equity import Point
from jts.app.equity import drawdowns
from jts.domain.timestamps import KST
from jts.domain.timestamps import ns_to_dt

_WIDTH, _HEIGHT = 900, 420
_LEFT, _RIGHT, _TOP = 90, 20, 40
_EQUITY_H, _GAP, _DD_H = 220, 40, 100


def _scale(
    values: Sequence[float], low: float, high: float, top: float, height: float
) -> list[float]:
    span = (high - low) or 1.0
    return [top + height - (v - low) / span * height for v in values]


def _polyline(xs: Sequence[float], ys: Sequence[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def _kst(ts: int) -> str:
    return ns_to_dt(ts).astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


def equity_svg(points: Sequence[Point], title: str) -> str:
    """The chart as SVG text; ``points`` are (UTC ns, equity) in time order, the last final."""
    if len(points) < 2:
        raise ValueError("an equity chart needs at least two points")
    values = [value for _, value in points]
    falls = drawdowns(values)
    equity = [float(value) for value in values]
    drawdown = [-float(fall) * 100 for fall in falls]
    worst_fall = max(falls)
    plot_w = _WIDTH - _LEFT - _RIGHT
    xs = [_LEFT + i * plot_w / (len(points) - 1) for i in range(len(points))]
    low, high = min(equity), max(equity)
    eq_y = _scale(equity, low, high, _TOP, _EQUITY_H)
    dd_top = _TOP + _EQUITY_H + _GAP
    worst = min(drawdown) or -1.0
    dd_y = _scale(drawdown, worst, 0.0, dd_top, _DD_H)
    worst_label = f"-{worst_fall:.2%}" if worst_fall else "0.00%"
    area = f"{_LEFT},{dd_top} {_polyline(xs, dd_y)} {xs[-1]:.1f},{dd_top}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{_LEFT}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<text x="{_LEFT}" y="{_TOP - 4}" fill="#555">equity (final {values[-1]:,.0f}, '
        f"max {max(values):,.0f}, min {min(values):,.0f})</text>",
        f'<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" '
        f'points="{_polyline(xs, eq_y)}"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end">{max(values):,.0f}</text>',
        f'<text x="{_LEFT - 6}" y="{_TOP + _EQUITY_H}" text-anchor="end">{min(values):,.0f}</text>',
        f'<text x="{_LEFT}" y="{dd_top - 4}" fill="#555">drawdown (worst {worst_label})</text>',
        f'<polygon fill="#f85149" fill-opacity="0.35" stroke="#cf222e" points="{area}"/>',
        f'<text x="{_LEFT - 6}" y="{dd_top + 4}" text-anchor="end">0%</text>',
        f'<text x="{_LEFT - 6}" y="{dd_top + _DD_H}" text-anchor="end">{worst_label}</text>',
        f'<text x="{_LEFT}" y="{_HEIGHT - 8}" fill="#555">{_kst(points[0][0])}</text>',
        f'<text x="{_WIDTH - _RIGHT}" y="{_HEIGHT - 8}" text-anchor="end" fill="#555">'
        f"{_kst(points[-1][0])}</text>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def write_equity_svg(path: Path, points: Sequence[Point], title: str) -> Path | None:
    """Write the chart to ``path``; None (nothing written) when there are too few points."""
    if len(points) < 2:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(equity_svg(points, title), encoding="utf-8")
    return path
